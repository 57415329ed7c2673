/**
 * Figures of a model against what the plant measured, shared by offline evaluation (`models evaluate`,
 * the held-out block of `train`) and live skill (src/lifecycle/skill.ts): one accumulator of sums, so
 * the same predictions give the same R², MAPE, MAE and MSE skill wherever they are judged.
 */

/** Sums of compared predictions (mergeable: add two accumulators field by field). */
export interface SkillSums {
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
export const PCT_FLOOR = 1e-6;

export function emptySums(): SkillSums {
  return { n: 0, sumErr2: 0, sumAbsErr: 0, nPct: 0, sumAbsPct: 0, sumY: 0, sumY2: 0, sumPersistErr2: 0 };
}

/**
 * One prediction against the value measured once its horizon passed, and against persistence (the
 * value known when the prediction was made). Non-finite samples are ignored.
 */
export function addSample(s: SkillSums, predicted: number, measured: number, persistence: number): void {
  if (![predicted, measured, persistence].every(Number.isFinite)) return;
  const err = predicted - measured;
  s.n += 1;
  s.sumErr2 += err * err;
  s.sumAbsErr += Math.abs(err);
  if (Math.abs(measured) > PCT_FLOOR) {
    s.nPct += 1;
    s.sumAbsPct += Math.abs(err / measured);
  }
  s.sumY += measured;
  s.sumY2 += measured * measured;
  const pe = persistence - measured;
  s.sumPersistErr2 += pe * pe;
}

/** Figures from summed accumulators; NaN where a figure is undefined (no samples, no variance). */
export function figuresOf(parts: readonly SkillSums[]): SkillFigures {
  const t = emptySums();
  for (const b of parts) {
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

/** Figures of three parallel columns (predicted, measured, persistence). */
export function skillOf(predicted: readonly number[], measured: readonly number[], persistence: readonly number[]): SkillFigures {
  const s = emptySums();
  predicted.forEach((p, i) => addSample(s, p, measured[i] ?? Number.NaN, persistence[i] ?? Number.NaN));
  return figuresOf([s]);
}

/** The quantiles a bundle records of each signal it learnt from (drift checks compare against them). */
export const RANGE_QUANTILES = [0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99] as const;

export interface SignalRange {
  readonly n: number;
  readonly min: number;
  readonly max: number;
  /** `p1`, `p10` .. `p90`, `p99`: linear interpolation between order statistics. */
  readonly quantiles: Record<string, number>;
}

/** Range and quantiles of a column; undefined without a finite value. */
export function signalRange(values: readonly number[]): SignalRange | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return undefined;
  const at = (q: number): number => {
    const pos = q * (n - 1);
    const lo = Math.floor(pos);
    const a = sorted[lo] ?? 0;
    const b = sorted[Math.min(n - 1, lo + 1)] ?? a;
    return a + (b - a) * (pos - lo);
  };
  const quantiles: Record<string, number> = {};
  for (const q of RANGE_QUANTILES) quantiles[`p${Math.round(q * 100)}`] = at(q);
  return { n, min: sorted[0] ?? 0, max: sorted[n - 1] ?? 0, quantiles };
}

/** A stretch of event time, [start, end] in ms. */
export interface Episode {
  readonly start: number;
  readonly end: number;
}

/** Consecutive flagged windows (ends `ts`, each `windowMs` long) merged into episodes. */
export function flagEpisodes(flags: readonly { readonly ts: number; readonly flagged: boolean }[], windowMs: number): Episode[] {
  const out: Episode[] = [];
  let open: { start: number; end: number } | undefined;
  for (const f of flags) {
    if (f.flagged) {
      if (open && f.ts - open.end <= windowMs) open.end = f.ts;
      else {
        if (open) out.push(open);
        open = { start: f.ts, end: f.ts };
      }
    } else if (open) {
      out.push(open);
      open = undefined;
    }
  }
  if (open) out.push(open);
  return out;
}

export interface EventFigures {
  /** Flag episodes that overlap a confirmed event, over all flag episodes. */
  readonly precision: number;
  /** Confirmed events with a flag inside them (or within `toleranceMs` after their start), over all. */
  readonly recall: number;
  /** Mean minutes from an event's start to the first flag, over the detected events. */
  readonly delayMin: number;
  readonly events: number;
  readonly detected: number;
  readonly flagEpisodes: number;
}

/** Event-wise precision, recall and detection delay of flag episodes against confirmed events. */
export function eventFigures(flags: readonly Episode[], events: readonly Episode[], toleranceMs: number): EventFigures {
  const overlaps = (f: Episode, e: Episode): boolean => f.start <= e.end + toleranceMs && f.end >= e.start - toleranceMs;
  const truePositives = flags.filter((f) => events.some((e) => overlaps(f, e))).length;
  const delays: number[] = [];
  for (const e of events) {
    const first = flags.find((f) => overlaps(f, e));
    if (first) delays.push(Math.max(0, first.start - e.start) / 60_000);
  }
  return {
    precision: flags.length > 0 ? truePositives / flags.length : Number.NaN,
    recall: events.length > 0 ? delays.length / events.length : Number.NaN,
    delayMin: delays.length > 0 ? delays.reduce((a, b) => a + b, 0) / delays.length : Number.NaN,
    events: events.length,
    detected: delays.length,
    flagEpisodes: flags.length,
  };
}
