/**
 * Input drift by the population stability index. The training distribution of an input is what its
 * bundle's manifest has: the scaler's centre and scale. Bins are the deciles of a normal with that
 * centre and scale (each expects 10 % of training values); live values are counted into them per day of
 * plant time in a 7-day ring. PSI = sum over bins of (live - expected) x ln(live / expected).
 */

export const DAY_MS = 86_400_000;
export const RING_DAYS = 7;

/** Standard normal deciles: the 9 inner edges of 10 equally likely bins. */
const DECILE_Z = [-1.2816, -0.8416, -0.5244, -0.2533, 0, 0.2533, 0.5244, 0.8416, 1.2816];
export const BINS = DECILE_Z.length + 1;
/** Smallest share a bin counts with, so an empty bin gives a large but finite PSI. */
const SHARE_FLOOR = 1e-4;

export function binOf(value: number, center: number, scale: number): number {
  const z = (value - center) / scale;
  let i = 0;
  while (i < DECILE_Z.length && z >= (DECILE_Z[i] ?? 0)) i += 1;
  return i;
}

/** PSI of live bin counts against equally likely bins (NaN without counts). */
export function psi(counts: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return Number.NaN;
  const expected = 1 / counts.length;
  let total = 0;
  for (const c of counts) {
    const live = Math.max(SHARE_FLOOR, c / n);
    total += (live - expected) * Math.log(live / expected);
  }
  return total;
}

export interface DayCounts {
  /** Day index: floor(event ms / 1 day). */
  day: number;
  counts: number[];
}

export interface DriftFigures {
  n: number;
  /** Plant time from the first live value counted to the last, ms. */
  spanMs: number;
  psi: number;
  /** Live mean in units of the training scale away from the training centre. */
  shift: number;
}

/** A day of one input: its bin counts, the running sum for the mean shift, its first and last event ms. */
type Day = DayCounts & { sum: number; first?: number; last?: number };

/** One input of one model: the daily bin counts in a ring, with the running sum for the mean shift. */
export class DriftRing {
  private readonly days = new Map<number, Day>();

  constructor(
    readonly center: number,
    readonly scale: number,
    private readonly span: number = RING_DAYS,
  ) {}

  add(eventMs: number, value: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(eventMs)) return;
    const day = Math.floor(eventMs / DAY_MS);
    let d = this.days.get(day);
    if (d === undefined) {
      d = { day, counts: new Array<number>(BINS).fill(0), sum: 0, first: eventMs, last: eventMs };
      this.days.set(day, d);
      for (const k of [...this.days.keys()]) if (k <= day - this.span) this.days.delete(k);
    }
    d.counts[binOf(value, this.center, this.scale)] = (d.counts[binOf(value, this.center, this.scale)] ?? 0) + 1;
    d.sum += value;
    d.first = Math.min(d.first ?? eventMs, eventMs);
    d.last = Math.max(d.last ?? eventMs, eventMs);
  }

  /** Figures over the `windowDays` days up to and including the day of `nowMs`. */
  figures(nowMs: number, windowDays: number): DriftFigures {
    const last = Math.floor(nowMs / DAY_MS);
    const counts = new Array<number>(BINS).fill(0);
    let sum = 0;
    let first = Number.POSITIVE_INFINITY;
    let end = Number.NEGATIVE_INFINITY;
    for (const d of this.days.values()) {
      if (d.day <= last - windowDays || d.day > last) continue;
      d.counts.forEach((c, i) => (counts[i] = (counts[i] ?? 0) + c));
      sum += d.sum;
      // A day restored from a state without its bounds counts as the whole day.
      first = Math.min(first, d.first ?? d.day * DAY_MS);
      end = Math.max(end, d.last ?? (d.day + 1) * DAY_MS - 1);
    }
    const n = counts.reduce((a, b) => a + b, 0);
    return { n, spanMs: n > 0 ? end - first : 0, psi: psi(counts), shift: n > 0 ? (sum / n - this.center) / this.scale : Number.NaN };
  }

  toJSON(): Day[] {
    return [...this.days.values()].sort((a, b) => a.day - b.day);
  }

  static fromJSON(center: number, scale: number, days: readonly Day[]): DriftRing {
    const ring = new DriftRing(center, scale);
    for (const d of days) {
      if (d.counts.length !== BINS) continue;
      ring.days.set(d.day, { day: d.day, counts: [...d.counts], sum: d.sum, ...(d.first !== undefined && d.last !== undefined ? { first: d.first, last: d.last } : {}) });
    }
    return ring;
  }
}
