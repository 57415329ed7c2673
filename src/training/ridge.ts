/** Sums of a ridge fit on standardised columns: Z'Z (lower triangle kept whole), Z'Y and the row count. */
export interface RidgeSums {
  readonly d: number;
  readonly k: number;
  readonly zz: Float64Array;
  readonly zy: Float64Array;
  n: number;
}

export function ridgeSums(z: readonly (readonly number[])[], y: readonly (readonly number[])[], d = z[0]?.length ?? 0, k = y[0]?.length ?? 0): RidgeSums {
  const zz = new Float64Array(d * d);
  const zy = new Float64Array(d * k);
  for (let i = 0; i < z.length; i += 1) {
    const row = z[i] ?? [];
    const out = y[i] ?? [];
    for (let p = 0; p < d; p += 1) {
      const zp = row[p] ?? 0;
      if (zp === 0) continue;
      for (let q = 0; q <= p; q += 1) zz[p * d + q] = (zz[p * d + q] ?? 0) + zp * (row[q] ?? 0);
      for (let c = 0; c < k; c += 1) zy[p * k + c] = (zy[p * k + c] ?? 0) + zp * (out[c] ?? 0);
    }
  }
  return { d, k, zz, zy, n: z.length };
}

/** Sums of two row sets together (the same columns). */
export function addSums(a: RidgeSums, b: RidgeSums): RidgeSums {
  return { d: a.d, k: a.k, zz: a.zz.map((v, i) => v + (b.zz[i] ?? 0)), zy: a.zy.map((v, i) => v + (b.zy[i] ?? 0)), n: a.n + b.n };
}

/**
 * W = (Z'Z + lambda n I)^-1 Z'Y by Cholesky, one solve for every output column. Returns the kernel
 * [inputs x outputs] (row-major) and zero bias: both sides are centred.
 */
export function solveRidge(sums: RidgeSums, lambda: number): Float32Array {
  const { d, k, n } = sums;
  const a = new Float64Array(d * d);
  for (let p = 0; p < d; p += 1) {
    for (let q = 0; q <= p; q += 1) {
      a[p * d + q] = sums.zz[p * d + q] ?? 0;
      a[q * d + p] = sums.zz[p * d + q] ?? 0;
    }
    a[p * d + p] = (a[p * d + p] ?? 0) + lambda * Math.max(1, n);
  }
  // Cholesky: A = L L' (A is symmetric positive definite thanks to the ridge term).
  const l = new Float64Array(d * d);
  for (let p = 0; p < d; p += 1) {
    for (let q = 0; q <= p; q += 1) {
      let sum = a[p * d + q] ?? 0;
      for (let r = 0; r < q; r += 1) sum -= (l[p * d + r] ?? 0) * (l[q * d + r] ?? 0);
      l[p * d + q] = p === q ? Math.sqrt(Math.max(sum, 1e-12)) : sum / (l[q * d + q] ?? 1);
    }
  }
  const w = new Float32Array(d * k);
  const tmp = new Float64Array(d);
  const x = new Float64Array(d);
  for (let c = 0; c < k; c += 1) {
    for (let p = 0; p < d; p += 1) {
      let sum = sums.zy[p * k + c] ?? 0;
      for (let r = 0; r < p; r += 1) sum -= (l[p * d + r] ?? 0) * (tmp[r] ?? 0);
      tmp[p] = sum / (l[p * d + p] ?? 1);
    }
    for (let p = d - 1; p >= 0; p -= 1) {
      let sum = tmp[p] ?? 0;
      for (let r = p + 1; r < d; r += 1) sum -= (l[r * d + p] ?? 0) * (x[r] ?? 0);
      x[p] = sum / (l[p * d + p] ?? 1);
      w[p * k + c] = x[p] ?? 0;
    }
  }
  return w;
}

/** Ridge regression in closed form on standardised columns, at one penalty. */
export function fitRidge(z: readonly (readonly number[])[], y: readonly (readonly number[])[], lambda: number): Float32Array {
  return solveRidge(ridgeSums(z, y), lambda);
}

/** The penalties a selected fit chooses from, per row, rising; `Infinity` is no input at all (the centred mean). */
export const RIDGE_GRID: readonly number[] = [1e-3, 1e-2, 1e-1, 1, 10, 100, Number.POSITIVE_INFINITY];

export interface SelectedRidge {
  /** Kernel [inputs x outputs], row-major, fitted on every row at each column's chosen penalty. */
  readonly w: Float32Array;
  /** Each output column's penalty (Infinity: zero weights). */
  readonly lambdas: number[];
  /** Each column's validation MSE at its penalty (in the centred, scaled units of y). */
  readonly validationMse: number[];
}

/**
 * Ridge regression whose penalty is chosen per output column on a later block: fitted on `fit`, each
 * penalty of the grid judged by its MSE on `check`, then refitted on both at the chosen one. A short
 * history with many inputs gets a strong penalty (or none of the inputs), a long one a light penalty.
 */
export function fitRidgeSelected(
  fit: { z: readonly (readonly number[])[]; y: readonly (readonly number[])[] },
  check: { z: readonly (readonly number[])[]; y: readonly (readonly number[])[] },
  grid: readonly number[] = RIDGE_GRID,
): SelectedRidge {
  const d = fit.z[0]?.length ?? check.z[0]?.length ?? 0;
  const k = fit.y[0]?.length ?? check.y[0]?.length ?? 0;
  const fitSums = ridgeSums(fit.z, fit.y, d, k);
  const best = Array.from({ length: k }, () => ({ lambda: Number.POSITIVE_INFINITY, mse: Number.POSITIVE_INFINITY }));
  for (const lambda of grid) {
    const w = Number.isFinite(lambda) ? solveRidge(fitSums, lambda) : new Float32Array(d * k);
    const err = new Float64Array(k);
    for (let i = 0; i < check.z.length; i += 1) {
      const row = check.z[i] ?? [];
      const out = check.y[i] ?? [];
      for (let c = 0; c < k; c += 1) {
        let p = 0;
        for (let j = 0; j < d; j += 1) p += (row[j] ?? 0) * (w[j * k + c] ?? 0);
        err[c] = (err[c] ?? 0) + ((out[c] ?? 0) - p) ** 2;
      }
    }
    for (let c = 0; c < k; c += 1) {
      const mse = (err[c] ?? 0) / Math.max(1, check.z.length);
      const slot = best[c];
      // The grid rises: a tie goes to the stronger penalty, so on equal evidence the model stays nearer persistence.
      if (slot && mse <= slot.mse) Object.assign(slot, { lambda, mse });
    }
  }
  const all = addSums(fitSums, ridgeSums(check.z, check.y, d, k));
  const w = new Float32Array(d * k);
  for (const lambda of new Set(best.map((b) => b.lambda))) {
    if (!Number.isFinite(lambda)) continue;
    const solved = solveRidge(all, lambda);
    best.forEach((b, c) => {
      if (b.lambda !== lambda) return;
      for (let j = 0; j < d; j += 1) w[j * k + c] = solved[j * k + c] ?? 0;
    });
  }
  return { w, lambdas: best.map((b) => b.lambda), validationMse: best.map((b) => b.mse) };
}
