import type { DetectorPostprocess } from '../onnx/manifest.js';
import { quantile } from '../training/scaler.js';

/**
 * Trailing mean over up to `window` rows (fewer at the start), so every row gets a value and the
 * result at row i depends only on rows <= i, as it would live.
 */
export function trailingMean(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i += 1) {
    sum += values[i] ?? 0;
    if (i >= window) sum -= values[i - window] ?? 0;
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

export function trailingMeanRows(rows: readonly (readonly number[])[], window: number): number[][] {
  if (window <= 1) return rows.map((r) => [...r]);
  const width = rows[0]?.length ?? 0;
  const columns = Array.from({ length: width }, (_, j) => trailingMean(rows.map((r) => r[j] ?? 0), window));
  return rows.map((_, i) => columns.map((c) => c[i] ?? 0));
}

/**
 * Exponentially weighted mean with the span convention alpha = 2/(window+1), started at the first row.
 * Same noise reduction as a trailing mean of `window` rows, but a step shows from its first row on.
 */
export function ewmaRows(rows: readonly (readonly number[])[], window: number): number[][] {
  if (window <= 1) return rows.map((r) => [...r]);
  const alpha = 2 / (window + 1);
  let state: number[] | undefined;
  return rows.map((r) => {
    state = state ? state.map((s, j) => s + alpha * ((r[j] ?? 0) - s)) : [...r];
    return [...state];
  });
}

export function smoothInputs(rows: readonly (readonly number[])[], post: DetectorPostprocess): number[][] {
  return post.inputFilter === 'ewma' ? ewmaRows(rows, post.inputWindow) : trailingMeanRows(rows, post.inputWindow);
}

/**
 * One input's part of a row score: `max` divides its reconstruction error by its training RMS, so every
 * signal is judged against its own normal spread and a fault on one signal is not diluted by the others;
 * `ensemble` takes the larger of that (times residualWeight) and its standard score; `sum` is its squared
 * error, divided by its training mean square when `residualScale` is set.
 */
export function inputTerm(squaredError: number, standardized: number, j: number, post: DetectorPostprocess): number {
  const scale = post.residualScale;
  if (post.aggregate === 'max' || post.aggregate === 'ensemble') {
    const weight = post.aggregate === 'ensemble' ? (post.residualWeight ?? 1) : 1;
    const residual = (weight * Math.sqrt(squaredError)) / (scale?.[j] ?? 1);
    return post.aggregate === 'ensemble' ? Math.max(residual, Math.abs(standardized)) : residual;
  }
  return scale ? squaredError / (scale[j] ?? 1) ** 2 : squaredError;
}

/**
 * Row scores from the graph's per-input outputs (row-major, `width` per row): the largest input term
 * (`max`, `ensemble`) or their sum (`sum`), see inputTerm.
 */
export function aggregateScores(out: { readonly squaredError: ArrayLike<number>; readonly standardized: ArrayLike<number> }, width: number, post: DetectorPostprocess): number[] {
  const rows = width > 0 ? Math.floor(out.squaredError.length / width) : 0;
  const largest = post.aggregate === 'max' || post.aggregate === 'ensemble';
  const result: number[] = [];
  for (let i = 0; i < rows; i += 1) {
    let score = 0;
    for (let j = 0; j < width; j += 1) {
      const term = inputTerm(out.squaredError[i * width + j] ?? 0, out.standardized[i * width + j] ?? 0, j, post);
      score = largest ? Math.max(score, term) : score + term;
    }
    result.push(score);
  }
  return result;
}

/** Per-input RMS of training residuals (scaled units), floored so a perfectly fitted input cannot divide by ~0. */
export function residualRms(squaredError: ArrayLike<number>, width: number, floor = 1e-3): number[] {
  const rows = width > 0 ? Math.floor(squaredError.length / width) : 0;
  return Array.from({ length: width }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < rows; i += 1) sum += squaredError[i * width + j] ?? 0;
    return Math.max(floor, Math.sqrt(sum / Math.max(1, rows)));
  });
}

/**
 * The verdict steps after the graph, one row at a time: trailing mean of the row scores over
 * `scoreWindow` rows, a flag once `persistence` consecutive smoothed scores are above the threshold,
 * held `hold` more rows after the condition clears. `anomaly score` and the daemon both judge with it.
 */
export class VerdictFollower {
  private readonly ring: Float64Array;
  private sum = 0;
  private rows = 0;
  private run = 0;
  private since = Number.POSITIVE_INFINITY;

  constructor(
    private readonly threshold: number,
    private readonly post: Pick<DetectorPostprocess, 'scoreWindow' | 'persistence' | 'hold'>,
  ) {
    this.ring = new Float64Array(Math.max(1, post.scoreWindow));
  }

  /** The smoothed score and the flag after this row's raw score (a row without a verdict counts as 0). */
  next(rawScore: number): { score: number; flag: boolean } {
    const value = Number.isNaN(rawScore) ? 0 : rawScore;
    const window = this.ring.length;
    const slot = this.rows % window;
    this.sum += value;
    if (this.rows >= window) this.sum -= this.ring[slot] ?? 0;
    this.ring[slot] = value;
    this.rows += 1;
    const score = this.sum / Math.min(this.rows, window);
    this.run = score > this.threshold ? this.run + 1 : 0;
    const raised = this.run >= this.post.persistence;
    const hold = this.post.hold ?? 0;
    if (hold <= 0) return { score, flag: raised };
    this.since = raised ? 0 : this.since + 1;
    return { score, flag: this.since <= hold };
  }
}

/** Per-input largest training residual (scaled units), floored as residualRms. */
export function residualMax(squaredError: ArrayLike<number>, width: number, floor = 1e-3): number[] {
  const rows = width > 0 ? Math.floor(squaredError.length / width) : 0;
  return Array.from({ length: width }, (_, j) => {
    let top = 0;
    for (let i = 0; i < rows; i += 1) top = Math.max(top, squaredError[i * width + j] ?? 0);
    return Math.max(floor, Math.sqrt(top));
  });
}

/** A row is flagged once `persistence` consecutive rows (ending at it) are above the threshold. */
export function persistentFlags(scores: readonly number[], threshold: number, persistence: number): boolean[] {
  const follower = new VerdictFollower(threshold, { scoreWindow: 1, persistence, hold: 0 });
  return scores.map((s) => follower.next(s).flag);
}

/** Alarm off-delay: a raised flag stays up for `hold` more rows after the condition clears. */
export function heldFlags(flags: readonly boolean[], hold: number): boolean[] {
  if (hold <= 0) return [...flags];
  let since = Number.POSITIVE_INFINITY;
  return flags.map((f) => {
    since = f ? 0 : since + 1;
    return since <= hold;
  });
}

export function detectorThreshold(trainingScores: readonly number[], post: DetectorPostprocess): number {
  return quantile(trainingScores, post.thresholdQuantile) * post.thresholdMargin;
}

export interface DetectorOutput {
  readonly scores: number[];
  readonly flags: boolean[];
}

/** Score smoothing, persistence and hold applied to the graph's raw row scores (VerdictFollower row by row). */
export function applyPostprocess(rawScores: readonly number[], threshold: number, post: DetectorPostprocess): DetectorOutput {
  const follower = new VerdictFollower(threshold, post);
  const scores: number[] = [];
  const flags: boolean[] = [];
  for (const raw of rawScores) {
    const v = follower.next(raw);
    scores.push(v.score);
    flags.push(v.flag);
  }
  return { scores, flags };
}

/**
 * How far a column's smoothed level travelled along its straight-line trend through the training rows,
 * in units of its row-to-row noise (sd of raw first differences / sqrt 2). Thermal drift travels many
 * noise widths; a noisy or quantised signal that merely steps once stays near 1. Such a level has no
 * stable normal value yet, so comparing later rows with it raises alarms on the drift, not on faults.
 */
export function driftToNoise(smoothed: readonly number[], raw: readonly number[]): number {
  const n = smoothed.length;
  if (n < 3 || raw.length < 3) return 0;
  const tMean = (n - 1) / 2;
  const yMean = smoothed.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  smoothed.forEach((y, t) => {
    sxy += (t - tMean) * (y - yMean);
    sxx += (t - tMean) ** 2;
  });
  const steps = raw.slice(1).map((v, i) => v - (raw[i] ?? v));
  const stepMean = steps.reduce((a, b) => a + b, 0) / steps.length;
  const noise = Math.sqrt(steps.reduce((a, b) => a + (b - stepMean) ** 2, 0) / steps.length) / Math.SQRT2;
  const travel = Math.abs(sxy / sxx) * n;
  return noise > 0 ? travel / noise : travel > 0 ? Number.POSITIVE_INFINITY : 0;
}
