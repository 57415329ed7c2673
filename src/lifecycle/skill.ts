/**
 * Live skill of a predictor: each prediction set against the value measured once its horizon passed,
 * and against persistence (the value known when the prediction was made). Bounded memory: one
 * accumulator of sums per hour of plant (event) time in a ring of 7 days, so the 24 h and 7 d figures
 * are sums over the last 24 or 168 buckets and the state is a few kilobytes, kept as JSON.
 */

import { addSample, emptySums, figuresOf as sumFigures, type SkillFigures, type SkillSums } from '../models/metrics.js';

export const HOUR_MS = 3_600_000;
export const RING_HOURS = 168;

/** Sums of one hour of compared predictions (the accumulator of src/models/metrics.ts, plus its hour). */
export interface SkillBucket extends SkillSums {
  /** Hour index: floor(event ms / 1 h). */
  hour: number;
}

export type { SkillFigures };

function emptyBucket(hour: number): SkillBucket {
  return { hour, ...emptySums() };
}

/** Figures from summed buckets; NaN where a figure is undefined (no samples, no variance). */
export function figuresOf(buckets: readonly SkillBucket[]): SkillFigures {
  return sumFigures(buckets);
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
    addSample(b, predicted, measured, persistence);
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
