/**
 * Inference latency per plant window: `npx tsx bench/inference/run.ts [--windows N]`.
 * All shipped models (per-stage autoencoders and stage predictors) on twin windows, through the daemon's
 * inference (onnxruntime-node) and, for comparison, the same weights in TensorFlow.js.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import type * as TfModule from '@tensorflow/tfjs';
import { loadConfig } from '../../src/config/load.js';
import { createInference } from '../../src/inference/index.js';
import { buildInputVector } from '../../src/inference/features.js';
import { scanBundles } from '../../src/inference/registry-file.js';
import { loadVerifiedModel, runSession, type LoadedModel } from '../../src/inference/session.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { runTwinWindows } from '../../src/models/twin-windows.js';
import { loadTf } from '../../src/training/tf.js';
import { repoRoot, writeReportSection } from '../../eval/lib/report.js';

const { values } = parseArgs({ options: { windows: { type: 'string', default: '2000' } } });
const target = Number(values.windows);
const base = loadConfig();
const config = { ...base, models: { ...base.models, dir: resolve(repoRoot, 'models') } };
const twin = runTwinWindows({ influent: 'rain', days: 2, seed: 501, signals: config.signals, windows: config.windows });
const windows = Array.from({ length: target }, (_, i) => twin.windows[i % twin.windows.length]).filter((w) => w !== undefined);

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

// onnxruntime-node through the daemon's own path (sensor checks, feature vectors, every session, rows)
const noop = (): void => undefined;
const inference = createInference({
  config, site: 'bench', publisher: { publish: noop }, tables: { insert: noop }, state: { getState: () => undefined, setState: noop },
  alarms: { raise: noop, clear: noop }, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock,
});
await inference.start(new AbortController().signal);
const modelCount = inference.models().length;
for (const w of windows.slice(0, 200)) await inference.onWindow(w);
const ortMs: number[] = [];
for (const w of windows) {
  const t = performance.now();
  await inference.onWindow(w);
  ortMs.push(performance.now() - t);
}
await inference.stop();

// TensorFlow.js with the same weights, read back from each model.onnx
const { tf, backend } = await loadTf();
interface TfModel { readonly model: LoadedModel; readonly net: TfModule.Sequential; readonly center: TfModule.Tensor1D; readonly scale: TfModule.Tensor1D }
const { onnx } = onnxProto;
const tfModels: TfModel[] = [];
for (const b of await scanBundles(config.models.dir)) {
  const model = await loadVerifiedModel(b.dir, { intraOpThreads: 1 });
  const { readFileSync } = await import('node:fs');
  const graph = onnx.ModelProto.decode(readFileSync(resolve(b.dir, 'model.onnx'))).graph;
  const init = new Map((graph?.initializer ?? []).map((t) => [t.name ?? '', Float32Array.from(t.floatData ?? [])]));
  const net = tf.sequential();
  model.manifest.training.layers.forEach((l, i) => {
    const kernel = init.get(`dense${i}_kernel`) ?? new Float32Array();
    const bias = init.get(`dense${i}_bias`) ?? new Float32Array();
    const inputs = kernel.length / l.units;
    net.add(tf.layers.dense({ units: l.units, activation: l.activation, inputShape: [inputs], weights: [tf.tensor2d(kernel, [inputs, l.units]), tf.tensor1d(bias)] }));
  });
  tfModels.push({ model, net, center: tf.tensor1d(init.get('input_center') ?? []), scale: tf.tensor1d(init.get('input_scale') ?? []) });
}
const tfMs: number[] = [];
for (const w of windows.slice(0, Math.min(windows.length, 1000))) {
  const t = performance.now();
  for (const m of tfModels) {
    const v = buildInputVector(w, m.model.inputs);
    if (!v.ok) continue;
    tf.tidy(() => {
      const x = tf.tensor2d(v.values, [1, m.model.inputs.length]).sub(m.center).div(m.scale);
      const y = m.net.predict(x) as TfModule.Tensor2D;
      const out = m.model.kind === 'autoencoder' ? y.sub(x).square() : y;
      out.dataSync();
    });
  }
  tfMs.push(performance.now() - t);
}
// onnxruntime-node sessions alone: feature vectors and runs, one model after the other
const sessionMs: number[] = [];
for (const w of windows) {
  const t = performance.now();
  for (const m of tfModels) {
    const v = buildInputVector(w, m.model.inputs);
    if (v.ok) await runSession(m.model.session, v.values, m.model.inputs.length);
  }
  sessionMs.push(performance.now() - t);
}
for (const m of tfModels) await m.model.session.release();

const row = (name: string, xs: number[]): string => `| ${name} | ${xs.length} | ${quantile(xs, 0.5).toFixed(3)} | ${quantile(xs, 0.99).toFixed(3)} | ${Math.max(...xs).toFixed(3)} |`;
const load = (await import('node:os')).loadavg()[0] ?? 0;
const md = `## Inference per plant window

Command: \`npx tsx bench/inference/run.ts --windows ${target}\`. ${modelCount} shipped models (per-stage anomaly autoencoders and stage
predictors) on every plant window of a 2-day rain run of the twin (windows repeated to ${windows.length}), one core, intraOpNumThreads 1.
The onnxruntime-node row is the daemon's whole \`onWindow\` (sensor checks, feature vectors, every session, rows and messages to no-op
ports); the TensorFlow.js row (${backend} backend) runs the same weights, read back from each model.onnx, one model after the other.
Goal: p99 <= 1 ms per window for all stages together. p99 on a shared 2-core build machine includes garbage collection and
other processes (the load average below tells how busy the machine was); p50 is the steady cost.

| path | windows | p50 (ms) | p99 (ms) | max (ms) |
|---|---|---|---|---|
${row('onnxruntime-node, sessions only (all models in turn)', sessionMs)}
${row('onnxruntime-node, daemon onWindow (plus sensor checks, rows, messages)', ortMs)}
${row(`TensorFlow.js (${backend})`, tfMs)}

Node ${process.version}, ${process.arch}; load average ${load.toFixed(2)} when the run ended.
`;
writeReportSection('docs/benchmarks.md', 'inference', md);
console.log(md);
