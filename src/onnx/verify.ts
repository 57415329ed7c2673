import * as ort from 'onnxruntime-node';
import type * as TfModule from '@tensorflow/tfjs';
import { EdgeError } from '../lib/lifecycle.js';
import type { Tf } from '../training/tf.js';
import type { Scaler } from '../training/scaler.js';
import { GRAPH_INPUT } from './writer.js';

export const VERIFY_TOLERANCE = 1e-4;

export type GraphOutputs = Record<string, Float32Array>;

/** The outputs the exported graph must reproduce, computed with TensorFlow.js from raw inputs. */
export function tfjsReference(
  tf: Tf,
  model: TfModule.Sequential,
  kind: 'autoencoder' | 'predictor',
  inputScaler: Scaler,
  outputScaler: Scaler | undefined,
  rows: readonly (readonly number[])[],
): GraphOutputs {
  const outputs: GraphOutputs = {};
  tf.tidy(() => {
    const raw = tf.tensor2d(rows.map((r) => [...r]));
    const center = tf.tensor1d(inputScaler.center);
    const scale = tf.tensor1d(inputScaler.scale);
    const scaled = raw.sub(center).div(scale);
    const out = model.predict(scaled) as TfModule.Tensor2D;
    if (kind === 'autoencoder') {
      const squared = out.sub(scaled).square();
      outputs['score'] = Float32Array.from(squared.sum(1).dataSync());
      outputs['squared_error'] = Float32Array.from(squared.dataSync());
      outputs['reconstruction'] = Float32Array.from(out.mul(scale).add(center).dataSync());
      outputs['standardized'] = Float32Array.from(scaled.dataSync());
      return;
    }
    if (!outputScaler) throw new Error('predictor reference needs an output scaler');
    outputs['prediction'] = Float32Array.from(out.mul(tf.tensor1d(outputScaler.scale)).add(tf.tensor1d(outputScaler.center)).dataSync());
  });
  return outputs;
}

/** Runs raw rows through an ONNX model; returns every graph output, flattened row-major. */
export async function runOnnx(model: Uint8Array | ort.InferenceSession, rows: readonly (readonly number[])[]): Promise<GraphOutputs> {
  const session = model instanceof Uint8Array ? await ort.InferenceSession.create(model) : model;
  try {
    const width = rows[0]?.length ?? 0;
    const flat = new Float32Array(rows.length * width);
    rows.forEach((r, i) => flat.set(r, i * width));
    const result = await session.run({ [GRAPH_INPUT]: new ort.Tensor('float32', flat, [rows.length, width]) });
    const out: GraphOutputs = {};
    for (const name of session.outputNames) {
      const tensor = result[name];
      if (tensor) out[name] = Float32Array.from(tensor.data as Float32Array);
    }
    return out;
  } finally {
    if (model instanceof Uint8Array) await session.release();
  }
}

export class VerificationError extends EdgeError {
  constructor(message: string, readonly maxAbsDiff: number) {
    super('ONNX_VERIFY_FAILED', message, 1);
    this.name = 'VerificationError';
  }
}

/**
 * The export gate: the ONNX graph, run by onnxruntime-node on held-out rows, must match TensorFlow.js
 * on every output within `tolerance`, or the bundle is not written. Outputs in engineering units are
 * compared in scaled units (`columnScales`): float32 cannot hold 20,000 m3/d to 1e-4 m3/d.
 */
export async function verifyOnnx(
  model: Uint8Array,
  rows: readonly (readonly number[])[],
  expected: GraphOutputs,
  tolerance = VERIFY_TOLERANCE,
  columnScales: Readonly<Record<string, readonly number[]>> = {},
): Promise<number> {
  if (rows.length === 0) throw new VerificationError('verification needs at least one held-out row', Number.NaN);
  const actual = await runOnnx(model, rows);
  let maxAbsDiff = 0;
  for (const [name, reference] of Object.entries(expected)) {
    const got = actual[name];
    if (!got || got.length !== reference.length) {
      throw new VerificationError(`ONNX output ${name} has ${got?.length ?? 0} values, TensorFlow.js ${reference.length}`, Number.POSITIVE_INFINITY);
    }
    const scales = columnScales[name];
    for (let i = 0; i < got.length; i += 1) {
      const divisor = scales ? (scales[i % scales.length] ?? 1) : 1;
      const diff = Math.abs((got[i] ?? Number.NaN) - (reference[i] ?? Number.NaN)) / divisor;
      if (!(diff <= maxAbsDiff)) maxAbsDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
    }
  }
  if (!(maxAbsDiff < tolerance)) {
    throw new VerificationError(`ONNX export differs from TensorFlow.js by ${maxAbsDiff.toExponential(3)} (limit ${tolerance.toExponential(0)})`, maxAbsDiff);
  }
  return maxAbsDiff;
}
