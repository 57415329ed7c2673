/**
 * Exponential backoff with jitter: the n-th consecutive failure waits min * 2^(n-1), capped at max,
 * scaled by a random factor in [0.5, 1) so that many plants reconnecting after a central outage spread out.
 */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(exp * (0.5 + 0.5 * random()));
}
