import * as ort from 'onnxruntime-node';
import type { DetectorPostprocess } from '../onnx/manifest.js';
import type { Scaler } from '../training/scaler.js';
import { createRng } from '../training/random.js';
import { aggregateScores } from './postprocess.js';
import { GraphFeed, maskMissing } from './online.js';
import { InputSmoother } from './smoother.js';

export { InputSmoother } from './smoother.js';

/**
 * The offline detector over typed columns (one Float64Array per input, NaN where a cell is missing),
 * batch by batch, so that memory stays a few copies of the inputs whatever the row count. With no
 * missing cell every step gives what smoothInputs / graphScores / fitScaler / driftToNoise give.
 */

const BATCH_ROWS = 4096;

/** One column smoothed over rows [0, rows). */
export function smoothColumn(values: Float64Array, rows: number, post: DetectorPostprocess): Float64Array {
  const smoother = new InputSmoother(1, post);
  const out = new Float64Array(rows);
  const cell = new Float64Array(1);
  const one = new Float64Array(1);
  for (let i = 0; i < rows; i += 1) {
    one[0] = values[i] ?? Number.NaN;
    smoother.next(one, cell);
    out[i] = cell[0] ?? Number.NaN;
  }
  return out;
}

/** driftToNoise over a column with gaps: smoothed levels of the rows in `use`, raw steps between present neighbours. */
export function columnDriftToNoise(smoothed: Float64Array, raw: Float64Array, from: number, rows: number, use: Uint8Array): number {
  let n = 0;
  let tSum = 0;
  let ySum = 0;
  for (let i = from; i < rows; i += 1) {
    if (use[i] !== 1 || Number.isNaN(smoothed[i] ?? Number.NaN)) continue;
    n += 1;
    tSum += i - from;
    ySum += smoothed[i] ?? 0;
  }
  if (n < 3) return 0;
  const tMean = tSum / n;
  const yMean = ySum / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = from; i < rows; i += 1) {
    if (use[i] !== 1 || Number.isNaN(smoothed[i] ?? Number.NaN)) continue;
    const t = i - from;
    sxy += (t - tMean) * ((smoothed[i] ?? 0) - yMean);
    sxx += (t - tMean) ** 2;
  }
  let steps = 0;
  let stepSum = 0;
  for (let i = 1; i < rows; i += 1) {
    const a = raw[i - 1] ?? Number.NaN;
    const b = raw[i] ?? Number.NaN;
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    steps += 1;
    stepSum += b - a;
  }
  if (steps < 2) return 0;
  const stepMean = stepSum / steps;
  let stepSq = 0;
  for (let i = 1; i < rows; i += 1) {
    const a = raw[i - 1] ?? Number.NaN;
    const b = raw[i] ?? Number.NaN;
    if (!Number.isNaN(a) && !Number.isNaN(b)) stepSq += (b - a - stepMean) ** 2;
  }
  const noise = Math.sqrt(stepSq / steps) / Math.SQRT2;
  const travel = Math.abs(sxy / sxx) * n;
  return noise > 0 ? travel / noise : travel > 0 ? Number.POSITIVE_INFINITY : 0;
}

function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[Math.ceil(pos)] ?? a;
  return a + (b - a) * (pos - lo);
}

/** fitScaler over the smoothed values of the rows in `use` (same centre, scale and floor). */
export function columnScaler(smoothed: readonly Float64Array[], use: Uint8Array, kind: 'standard' | 'robust', relativeFloor: number): Scaler {
  const center: number[] = [];
  const scale: number[] = [];
  for (const column of smoothed) {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < column.length; i += 1) {
      if (use[i] !== 1) continue;
      n += 1;
      sum += column[i] ?? 0;
    }
    let c: number;
    let s: number;
    if (kind === 'standard') {
      c = sum / Math.max(1, n);
      let sq = 0;
      for (let i = 0; i < column.length; i += 1) if (use[i] === 1) sq += ((column[i] ?? 0) - c) ** 2;
      s = Math.sqrt(sq / Math.max(1, n));
    } else {
      const sorted = new Float64Array(n);
      let k = 0;
      for (let i = 0; i < column.length; i += 1) if (use[i] === 1) sorted[k++] = column[i] ?? 0;
      sorted.sort();
      c = quantileSorted(sorted, 0.5);
      s = (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 1.349;
    }
    center.push(c);
    scale.push(Math.max(s, Math.max(0, relativeFloor * Math.abs(c), 1e-9)));
  }
  return { kind, center, scale };
}

/** Up to `limit` of the indices i with use[i] = 1: all in order when there are no more, else a seeded sample in order. */
export function sampleRows(use: Uint8Array, limit: number, seed: number): number[] {
  const all: number[] = [];
  for (let i = 0; i < use.length; i += 1) if (use[i] === 1) all.push(i);
  if (all.length <= limit) return all;
  const rng = createRng(seed ^ 0x2c1b3c6d);
  // partial Fisher-Yates: the first `limit` places hold a uniform sample
  for (let k = 0; k < limit; k += 1) {
    const r = k + Math.floor(rng() * (all.length - k));
    const t = all[k] ?? 0;
    all[k] = all[r] ?? 0;
    all[r] = t;
  }
  return all.slice(0, limit).sort((a, b) => a - b);
}

/** Smoothed rows at the given (ascending) indices, as the network and the export check take them. */
export function smoothedRowsAt(columns: readonly Float64Array[], post: DetectorPostprocess, indices: readonly number[]): number[][] {
  const width = columns.length;
  const smoother = new InputSmoother(width, post);
  const raw = new Float64Array(width);
  const out = new Float64Array(width);
  const rows: number[][] = [];
  let k = 0;
  const last = indices[indices.length - 1] ?? -1;
  for (let i = 0; i <= last; i += 1) {
    for (let j = 0; j < width; j += 1) raw[j] = columns[j]?.[i] ?? Number.NaN;
    smoother.next(raw, out);
    if (indices[k] === i) {
      rows.push(Array.from(out));
      k += 1;
    }
  }
  return rows;
}

export interface GraphPass {
  /** Row scores before score smoothing; NaN where every input is missing (no verdict). */
  readonly scores: Float64Array;
  /** Inputs missing (raw cell blank or not yet seen) per row. */
  readonly missingCount: Uint16Array;
  /** Per input: sum of its squared scaled error over the counted rows where it is present, and how many. */
  readonly squaredErrorSum: Float64Array;
  readonly squaredErrorRows: Float64Array;
  /** Per input: its largest squared scaled error over the counted rows where it is present. */
  readonly squaredErrorMax: Float64Array;
}

export function singleThreadSession(onnx: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
}

/**
 * Runs rows [0, rows) through the detector graph in batches: inputs smoothed as fitted, a missing input
 * fed its held level (the training centre before it ever had one) and left out of the row's score, so a
 * row is scored from what is there. Rows with count[i] = 1 feed the squared-error sums.
 */
export async function graphPass(onnx: Uint8Array, graphInput: string, columns: readonly Float64Array[], rows: number, post: DetectorPostprocess, center: readonly number[], count?: Uint8Array): Promise<GraphPass> {
  const width = columns.length;
  const session = await singleThreadSession(onnx);
  const scores = new Float64Array(rows);
  const missingCount = new Uint16Array(rows);
  const squaredErrorSum = new Float64Array(width);
  const squaredErrorRows = new Float64Array(width);
  const squaredErrorMax = new Float64Array(width);
  const feed = new GraphFeed(width, post, center);
  const raw = new Float64Array(width);
  try {
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, rows - start);
      const input = new Float32Array(n * width);
      const missing = new Uint8Array(n * width);
      for (let r = 0; r < n; r += 1) {
        const i = start + r;
        for (let j = 0; j < width; j += 1) raw[j] = columns[j]?.[i] ?? Number.NaN;
        missingCount[i] = feed.next(raw, input, missing, r);
      }
      const result = await session.run({ [graphInput]: new ort.Tensor('float32', input, [n, width]) });
      const se = result['squared_error']?.data as Float32Array | undefined;
      if (!se) throw new Error('detector graph has no "squared_error" output');
      const z = result['standardized']?.data as Float32Array | undefined;
      const squaredError = Float32Array.from(se);
      const standardized = z ? Float32Array.from(z) : new Float32Array();
      for (let k = 0; k < missing.length; k += 1) {
        if (missing[k] === 1 || count?.[start + Math.floor(k / width)] !== 1) continue;
        squaredErrorSum[k % width] = (squaredErrorSum[k % width] ?? 0) + (squaredError[k] ?? 0);
        squaredErrorRows[k % width] = (squaredErrorRows[k % width] ?? 0) + 1;
        squaredErrorMax[k % width] = Math.max(squaredErrorMax[k % width] ?? 0, squaredError[k] ?? 0);
      }
      maskMissing(squaredError, standardized, missing);
      const batchScores = aggregateScores({ squaredError, standardized }, width, post);
      for (let r = 0; r < n; r += 1) scores[start + r] = missingCount[start + r] === width ? Number.NaN : (batchScores[r] ?? 0);
    }
    return { scores, missingCount, squaredErrorSum, squaredErrorRows, squaredErrorMax };
  } finally {
    await session.release();
  }
}

/**
 * Rows from `from` on that training can use: every input has had a value, and an input whose cell is
 * missing has been missing for at most `gapLimit` rows (its held smoothed level stands in for it).
 */
export function usableRows(columns: readonly Float64Array[], rows: number, from: number, gapLimit: number): { use: Uint8Array; complete: number; imputed: number; skipped: number } {
  const use = new Uint8Array(rows);
  const gap = new Float64Array(columns.length).fill(Number.POSITIVE_INFINITY);
  let complete = 0;
  let imputed = 0;
  let skipped = 0;
  for (let i = 0; i < rows; i += 1) {
    let anyMissing = false;
    let tooLong = false;
    for (let j = 0; j < columns.length; j += 1) {
      if (Number.isNaN(columns[j]?.[i] ?? Number.NaN)) {
        gap[j] = (gap[j] ?? 0) + 1;
        anyMissing = true;
        if ((gap[j] ?? 0) > gapLimit) tooLong = true;
      } else gap[j] = 0;
    }
    if (i < from) continue;
    if (tooLong) skipped += 1;
    else {
      use[i] = 1;
      if (anyMissing) imputed += 1;
      else complete += 1;
    }
  }
  return { use, complete, imputed, skipped };
}

/** residualRms from summed squared errors and per-input row counts. */
export function rmsFromSums(sums: Float64Array, rows: Float64Array, floor = 1e-3): number[] {
  return Array.from(sums, (s, j) => Math.max(floor, Math.sqrt(s / Math.max(1, rows[j] ?? 0))));
}

export { maxOf, minOf } from '../lib/extent.js';
