import * as ort from 'onnxruntime-node';
import { runOnnx } from '../onnx/verify.js';
import type { DetectorPostprocess } from '../onnx/manifest.js';
import { aggregateScores, smoothInputs, trailingMean } from './postprocess.js';

const BATCH_ROWS = 4096;

export interface GraphRows {
  /** Per-input squared scaled reconstruction errors, row-major. */
  readonly squaredError: Float32Array;
  /** Per-input standard scores (inputs after the folded scaler), row-major; empty for older graphs. */
  readonly standardized: Float32Array;
}

/** Runs raw rows, input smoothing applied, through the detector graph. */
export async function graphRows(onnx: Uint8Array, rows: readonly (readonly number[])[], post: DetectorPostprocess): Promise<GraphRows> {
  const inputs = smoothInputs(rows, post);
  const width = inputs[0]?.length ?? 0;
  const squaredError = new Float32Array(inputs.length * width);
  let standardized = new Float32Array(inputs.length * width);
  const session = await ort.InferenceSession.create(onnx);
  try {
    for (let start = 0; start < inputs.length; start += BATCH_ROWS) {
      const out = await runOnnx(session, inputs.slice(start, start + BATCH_ROWS));
      const se = out['squared_error'];
      if (!se) throw new Error('detector graph has no "squared_error" output');
      squaredError.set(se, start * width);
      const z = out['standardized'];
      if (z) standardized.set(z, start * width);
      else standardized = new Float32Array();
    }
    return { squaredError, standardized };
  } finally {
    await session.release();
  }
}

/** The detector's per-row score (before score smoothing) for raw rows. */
export async function graphScores(onnx: Uint8Array, rows: readonly (readonly number[])[], post: DetectorPostprocess): Promise<number[]> {
  const width = rows[0]?.length ?? 0;
  const out = await graphRows(onnx, rows, post);
  return aggregateScores(out, width, post);
}

/** Rows whose smoothed score rests on a full input window and a full score window. */
export function warmupRows(post: DetectorPostprocess): number {
  return post.inputWindow - 1 + post.scoreWindow - 1;
}

export function smoothedScores(raw: readonly number[], post: DetectorPostprocess): number[] {
  return trailingMean(raw, post.scoreWindow);
}
