import type { DetectorPostprocess } from '../onnx/manifest.js';
import { aggregateScores, inputTerm, VerdictFollower } from './postprocess.js';
import { InputSmoother } from './smoother.js';

/**
 * The scoring of the one detector family, row by row, around a graph run by the caller: `anomaly score`
 * feeds it a CSV in batches (graphPass), the daemon one plant window at a time. Both take the same
 * steps in the same order: input smoothing (a missing input holds its smoothed level, the training
 * centre before it ever had one), the graph, missing inputs left out of the row score, the manifest's
 * aggregate, then VerdictFollower (score smoothing, persistence, hold) against the manifest's threshold.
 */

/** Scoring as fitted: what a bundle's manifest records. */
export interface DetectorScoring {
  readonly post: DetectorPostprocess;
  readonly threshold: number;
  /** The folded input scaler's centre (stands in for an input that has never had a value). */
  readonly center: readonly number[];
}

/** Graph input rows from raw rows: smoothing as fitted; marks the missing inputs. */
export class GraphFeed {
  private readonly smoother: InputSmoother;
  private readonly level: Float64Array;

  constructor(
    private readonly width: number,
    post: DetectorPostprocess,
    private readonly center: readonly number[],
  ) {
    this.smoother = new InputSmoother(width, post);
    this.level = new Float64Array(width);
  }

  /** Writes row `row` of `input` and `missing` (1 where the raw value is NaN); returns how many are missing. */
  next(raw: ArrayLike<number>, input: Float32Array, missing: Uint8Array, row = 0): number {
    this.smoother.next(raw, this.level);
    let gone = 0;
    for (let j = 0; j < this.width; j += 1) {
      const l = this.level[j] ?? Number.NaN;
      const k = row * this.width + j;
      if (Number.isNaN(raw[j] ?? Number.NaN)) {
        missing[k] = 1;
        gone += 1;
      } else missing[k] = 0;
      input[k] = Number.isNaN(l) ? (this.center[j] ?? 0) : l;
    }
    return gone;
  }
}

/** Zeroes the graph outputs of missing inputs (in place), so a row is scored from what is there. */
export function maskMissing(squaredError: Float32Array, standardized: Float32Array, missing: Uint8Array): void {
  for (let k = 0; k < missing.length; k += 1) {
    if (missing[k] !== 1) continue;
    squaredError[k] = 0;
    if (standardized.length > 0) standardized[k] = 0;
  }
}

export interface GraphOutputsRow {
  /** Per-input squared scaled reconstruction errors of one row. */
  readonly squaredError: Float32Array;
  /** Per-input standard scores of one row (empty for older graphs). */
  readonly standardized?: Float32Array | undefined;
}

export interface RowVerdict {
  /** Smoothed score, as `anomaly score` writes it. */
  readonly score: number;
  readonly flag: boolean;
  /** Each input's part of the row score (inputTerm), 0 for a missing input. */
  readonly terms: readonly number[];
  readonly missing: number;
}

/** One detector's state across rows (a stage's windows in the daemon): feed, graph, verdict. */
export class OnlineDetector {
  private readonly feed: GraphFeed;
  private readonly follower: VerdictFollower;
  private readonly missing: Uint8Array;

  constructor(private readonly scoring: DetectorScoring) {
    const width = scoring.center.length;
    this.feed = new GraphFeed(width, scoring.post, scoring.center);
    this.follower = new VerdictFollower(scoring.threshold, scoring.post);
    this.missing = new Uint8Array(width);
  }

  get threshold(): number {
    return this.scoring.threshold;
  }

  /** Scores one raw row (NaN where an input is missing) through `run`, the caller's graph session. */
  async next(raw: ArrayLike<number>, run: (input: Float32Array) => Promise<GraphOutputsRow>): Promise<RowVerdict> {
    const width = this.missing.length;
    const input = new Float32Array(width);
    const missing = this.feed.next(raw, input, this.missing);
    const out = await run(input);
    if (out.squaredError.length !== width) throw new Error(`detector graph returned ${out.squaredError.length} squared errors for ${width} inputs`);
    const squaredError = Float32Array.from(out.squaredError);
    const standardized = out.standardized && out.standardized.length === width ? Float32Array.from(out.standardized) : new Float32Array();
    maskMissing(squaredError, standardized, this.missing);
    const rawScore = missing === width ? Number.NaN : (aggregateScores({ squaredError, standardized }, width, this.scoring.post)[0] ?? 0);
    const { score, flag } = this.follower.next(rawScore);
    const terms = Array.from(squaredError, (se, j) => (this.missing[j] === 1 ? 0 : inputTerm(se, standardized[j] ?? 0, j, this.scoring.post)));
    return { score, flag, terms, missing };
  }
}

/** Bundles from before the detector family recorded no postprocess: the graph's sum of squared errors, as scored then. */
const SUM_OF_SQUARES: DetectorPostprocess = { inputWindow: 1, scoreWindow: 1, persistence: 1, thresholdQuantile: 1, thresholdMargin: 1, aggregate: 'sum' };

/** The scoring a bundle's manifest records. */
export function manifestScoring(manifest: { readonly postprocess?: DetectorPostprocess | undefined; readonly threshold?: number | undefined; readonly scaler: { readonly center: readonly number[] } }): DetectorScoring {
  return { post: manifest.postprocess ?? SUM_OF_SQUARES, threshold: manifest.threshold ?? Number.POSITIVE_INFINITY, center: manifest.scaler.center };
}
