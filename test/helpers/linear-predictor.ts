import { writeBundle } from '../../src/onnx/bundle.js';
import { runOnnx } from '../../src/onnx/verify.js';
import { buildDenseOnnx, ONNX_OPSET } from '../../src/onnx/writer.js';
import { writeReference } from '../../src/inference/reference.js';

export interface LinearPredictor {
  readonly name: string;
  readonly version: string;
  /** Added to the forecast: 0 forecasts the current window mean (persistence), above 0 a biased one. */
  readonly bias: number;
  /** Added per mg/L of aerobic DO above `doKnee`: a version that goes wrong (or, huge, non-finite) when the DO rises. */
  readonly doGain?: number;
  readonly doKnee?: number;
  /** Also reads the nitrate mean this many minutes back (weight 0): a run needs that much recent history. */
  readonly historyMin?: number;
}

export const NO3_INPUTS = [
  { stage: 'aerobic', signal: 'no3_n', feature: 'mean' },
  { stage: 'aerobic', signal: 'do', feature: 'mean' },
];

/**
 * A real ONNX predictor bundle of aerobic nitrate 15 min ahead, with hand-set weights (no training):
 * forecast = no3 + bias + doGain * max(0, do - doKnee), as two Gemm layers with a ReLU; its reference
 * outputs come from onnxruntime itself, so the daemon's activation gate replays them.
 */
export async function writeLinearPredictor(dir: string, p: LinearPredictor): Promise<string> {
  const knee = p.doKnee ?? 3.5;
  const inputs = p.historyMin ? [...NO3_INPUTS, { stage: 'aerobic', signal: 'no3_n', feature: `mean@-${p.historyMin}m` }] : NO3_INPUTS;
  const n = inputs.length;
  const layers = [
    // relu(no3), relu(-no3), relu(do - knee); the history input, if any, weighs nothing
    { inputs: n, units: 3, activation: 'relu' as const, kernel: Float32Array.from([1, -1, 0, 0, 0, 1, ...Array<number>((n - 2) * 3).fill(0)]), bias: Float32Array.from([0, 0, -knee]) },
    { inputs: 3, units: 1, activation: 'linear' as const, kernel: Float32Array.from([1, -1, p.doGain ?? 0]), bias: Float32Array.from([p.bias]) },
  ];
  const identity = (n: number) => ({ kind: 'standard' as const, center: Array<number>(n).fill(0), scale: Array<number>(n).fill(1) });
  const onnx = buildDenseOnnx({ kind: 'predictor', name: p.name, layers, inputScaler: identity(n), outputScaler: identity(1) });
  const rows = [[6, 2], [4.5, 1.5], [7.2, 2.4], [5.1, 3]].map((r) => [...r, ...Array<number>(n - 2).fill(5.5)]);
  const outputs = await runOnnx(onnx, rows);
  const bundle = await writeBundle(dir, {
    name: p.name,
    version: p.version,
    kind: 'predictor',
    inputs,
    graphInput: 'input',
    outputs: [{ name: 'prediction', dims: ['batch', 1] }],
    targets: [{ stage: 'aerobic', signal: 'no3_n', feature: 'mean@+15m' }],
    scaler: identity(n),
    outputScaler: identity(1),
    metrics: {},
    training: { source: 'hand-set weights', rows: 0, seed: 0, split: { mode: 'tail', trainRows: 0, validationRows: 0 }, epochs: 0, layers: layers.map((l) => ({ units: l.units, activation: l.activation })) },
    createdAt: new Date().toISOString(),
    tfjsBackend: 'tfjs',
    verification: { maxAbsDiff: 0, tolerance: 1e-4, rows: rows.length, runtime: 'onnxruntime-node' },
    opset: ONNX_OPSET,
  }, onnx);
  await writeReference(bundle.dir, { inputs: rows, outputs: { prediction: Array.from(outputs['prediction'] ?? []) }, columnScales: { prediction: [1] }, tolerance: 1e-4, producedBy: 'onnxruntime-node' });
  return bundle.dir;
}
