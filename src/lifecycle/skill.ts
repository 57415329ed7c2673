/**
 * Live skill of a predictor: each prediction set against the value measured once its horizon passed,
 * and against persistence (the value known when the prediction was made). Bounded memory: one
 * accumulator of sums per hour of plant (event) time in a ring of 7 days, so the 24 h and 7 d figures
 * are sums over the last 24 or 168 buckets and the state is a few kilobytes, kept as JSON.
 */

export const HOUR_MS = 3_600_000;
export const RING_HOURS = 168;

/** Sums of one hour of compared predictions. */
export interface SkillBucket {
  /** Hour index: floor(event ms / 1 h). */
  hour: number;
  n: number;
  sumErr2: number;
  sumAbsErr: number;
  /** Samples with a measured value far enough from 0 for a percentage error. */
  nPct: number;
  sumAbsPct: number;
  sumY: number;
  sumY2: number;
  sumPersistErr2: number;
}

export interface SkillFigures {
  n: number;
  mae: number;
  mse: number;
  /** Mean absolute percentage error, in percent (NaN without a usable sample). */
  mape: number;
  r2: number;
  /** 1 - MSE / MSE of persistence: above 0 beats persistence. */
  mseSkill: number;
}

/** Measured values this close to 0 carry no percentage error. */
const PCT_FLOOR = 1e-6;

function emptyBucket(hour: number): SkillBucket {
  return { hour, n: 0, sumErr2: 0, sumAbsErr: 0, nPct: 0, sumAbsPct: 0, sumY: 0, sumY2: 0, sumPersistErr2: 0 };
}

/** Figures from summed buckets; NaN where a figure is undefined (no samples, no variance). */
export function figuresOf(buckets: readonly SkillBucket[]): SkillFigures {
  const t = emptyBucket(0);
  for (const b of buckets) {
    t.n += b.n;
    t.sumErr2 += b.sumErr2;
    t.sumAbsErr += b.sumAbsErr;
    t.nPct += b.nPct;
    t.sumAbsPct += b.sumAbsPct;
    t.sumY += b.sumY;
    t.sumY2 += b.sumY2;
    t.sumPersistErr2 += b.sumPersistErr2;
  }
  if (t.n === 0) return { n: 0, mae: Number.NaN, mse: Number.NaN, mape: Number.NaN, r2: Number.NaN, mseSkill: Number.NaN };
  const mse = t.sumErr2 / t.n;
  const sst = t.sumY2 - (t.sumY * t.sumY) / t.n;
  return {
    n: t.n,
    mae: t.sumAbsErr / t.n,
    mse,
    mape: t.nPct > 0 ? (100 * t.sumAbsPct) / t.nPct : Number.NaN,
    r2: sst > 1e-12 * Math.max(1, t.sumY2) ? 1 - t.sumErr2 / sst : Number.NaN,
    mseSkill: t.sumPersistErr2 > 0 ? 1 - t.sumErr2 / t.sumPersistErr2 : Number.NaN,
  };
}

/** One model target and horizon: the hourly ring. */
export class SkillRing {
  private readonly buckets = new Map<number, SkillBucket>();

  constructor(private readonly hours: number = RING_HOURS) {}

  /**
   * A prediction made at `madeMs` for `dueMs` (event time), the value measured at `dueMs` and the value
   * persistence would have predicted (the last one known at `madeMs`). Filed under the hour of `dueMs`.
   */
  add(dueMs: number, predicted: number, measured: number, persistence: number): void {
    if (![dueMs, predicted, measured, persistence].every(Number.isFinite)) return;
    const hour = Math.floor(dueMs / HOUR_MS);
    let b = this.buckets.get(hour);
    if (b === undefined) {
      b = emptyBucket(hour);
      this.buckets.set(hour, b);
      this.evict(hour);
    }
    const err = predicted - measured;
    b.n += 1;
    b.sumErr2 += err * err;
    b.sumAbsErr += Math.abs(err);
    if (Math.abs(measured) > PCT_FLOOR) {
      b.nPct += 1;
      b.sumAbsPct += Math.abs(err / measured);
    }
    b.sumY += measured;
    b.sumY2 += measured * measured;
    const pe = persistence - measured;
    b.sumPersistErr2 += pe * pe;
  }

  /** Figures over the `windowHours` hours up to and including the hour of `nowMs`. */
  figures(nowMs: number, windowHours: number): SkillFigures {
    const last = Math.floor(nowMs / HOUR_MS);
    const first = last - windowHours + 1;
    return figuresOf([...this.buckets.values()].filter((b) => b.hour >= first && b.hour <= last));
  }

  get size(): number {
    return this.buckets.size;
  }

  toJSON(): SkillBucket[] {
    return [...this.buckets.values()].sort((a, b) => a.hour - b.hour);
  }

  static fromJSON(buckets: readonly SkillBucket[], hours: number = RING_HOURS): SkillRing {
    const ring = new SkillRing(hours);
    for (const b of buckets) ring.buckets.set(b.hour, { ...b });
    const newest = Math.max(...buckets.map((b) => b.hour));
    if (Number.isFinite(newest)) ring.evict(newest);
    return ring;
  }

  /** Drops buckets older than the ring's span before the newest hour seen. */
  private evict(newest: number): void {
    let top = newest;
    for (const h of this.buckets.keys()) if (h > top) top = h;
    for (const h of [...this.buckets.keys()]) if (h <= top - this.hours) this.buckets.delete(h);
  }
}
