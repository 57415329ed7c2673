/** Seeded PRNG (mulberry32): training must give the same bundle twice from the same data and seed. */
export function createRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates on a copy. */
export function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Validation rows for early stopping. `tail` keeps time order (the last rows validate, as on a plant
 * where the future is never seen); `random` draws them with the seeded PRNG.
 */
export function splitIndices(n: number, validationFraction: number, mode: 'tail' | 'random', seed: number): { train: number[]; validation: number[] } {
  const nVal = Math.max(n >= 5 ? 1 : 0, Math.round(n * validationFraction));
  const order = mode === 'tail' ? range(n) : shuffled(range(n), createRng(seed));
  return { train: order.slice(0, n - nVal), validation: order.slice(n - nVal) };
}
