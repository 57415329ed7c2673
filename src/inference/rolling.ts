/** First index in the ascending `sorted` whose value is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Median of values sorted ascending (NaN when empty). */
export function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The last `limit` values of a series with its order statistics at hand: a FIFO and the same values
 * kept sorted, so a median or a quantile per window costs no sort. Non-finite values are not kept.
 */
export class RollingValues {
  private readonly fifo: number[] = [];
  private readonly sorted: number[] = [];

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.fifo.length;
  }

  push(value: number): void {
    if (!Number.isFinite(value)) return;
    this.fifo.push(value);
    this.sorted.splice(lowerBound(this.sorted, value), 0, value);
    if (this.fifo.length > this.limit) {
      const oldest = this.fifo.shift() as number;
      this.sorted.splice(lowerBound(this.sorted, oldest), 1);
    }
  }

  /** The value at rank floor(q x n) (0 when empty), as the checks' percentiles have always been taken. */
  quantile(q: number): number {
    const n = this.sorted.length;
    if (n === 0) return 0;
    return this.sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0;
  }

  /** Median (NaN when empty). */
  median(): number {
    return medianOfSorted(this.sorted);
  }

  /** Sum of the kept values. */
  sum(): number {
    let total = 0;
    for (const v of this.fifo) total += v;
    return total;
  }
}
