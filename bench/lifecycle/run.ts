/**
 * Cost of the live figures in the window path (issue 15 items 1 to 3): the lifecycle component with every
 * shipped bundle loaded (onnxruntime-node sessions, as the daemon has them), fed 7 plant days of 5-minute
 * windows with a prediction per predictor target and an anomaly row per autoencoder each window; per-window
 * time of `onWindow` (what the window-to-setpoint latency pays), time of one publish (figures of every
 * version, triggers, the edge/models message) and the size and save time of the state it keeps.
 *
 *   npx tsx bench/lifecycle/run.ts [--days 7]
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { lifecycleSchema } from '../../src/config/sections/lifecycle.js';
import type { PlantWindow, Publisher, SignalFeatures, StateStore, TableWriter } from '../../src/contract/ports.js';
import type { AnomalyRow, PredictionRow } from '../../src/contract/rows.js';
import { scanBundles } from '../../src/inference/registry-file.js';
import { loadVerifiedModel, type LoadedModel } from '../../src/inference/session.js';
import { createModelLifecycle } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { repoRoot, writeReportSection } from '../../eval/lib/report.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const DAYS = arg('days', 7);
const W = 300_000;
const T0 = Date.UTC(2026, 0, 5);

const models: LoadedModel[] = [];
for (const b of await scanBundles(join(repoRoot, 'models'))) models.push(await loadVerifiedModel(b.dir, { intraOpThreads: 1 }));

let stateBytes = 0;
let saveMs = 0;
const state: StateStore = {
  getState: () => undefined,
  setState: (_key, value) => {
    const t = performance.now();
    stateBytes = JSON.stringify(value).length;
    saveMs = performance.now() - t;
  },
};
const tables: TableWriter = { insert: () => undefined };
let published = 0;
const publisher: Publisher = { publish: (_kind, _params, payload) => void (published = JSON.stringify(payload).length) };
let now = T0;
const clock = { now: () => now, setTimeout: () => ({ clear: () => undefined }), setInterval: () => ({ clear: () => undefined }) };
const lifecycle = createModelLifecycle({ config: lifecycleSchema.parse({}), publisher, tables, state, logger: silentLogger(), clock, models: () => models });
await lifecycle.start();

let seed = 11;
const uniform = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) + 1) / (2 ** 31 + 1);
const feat = (v: number): SignalFeatures => ({ mean: v, last: v, min: v * 0.98, max: v * 1.02, slope: 0, count: 5, filled: 0, stale: false, gappy: false });
const windows = Math.round((DAYS * 86_400_000) / W);
const times: number[] = [];
for (let i = 0; i < windows; i += 1) {
  const end = T0 + i * W;
  const stages: Record<string, { stage: string; start: number; end: number; quality: number; signals: Record<string, SignalFeatures> }> = {};
  for (const m of models) {
    m.inputs.forEach((input, j) => {
      const s = (stages[input.stage] ??= { stage: input.stage, start: end - W, end, quality: 1, signals: {} });
      s.signals[input.signal] ??= feat((m.manifest.scaler.center[j] ?? 0) + (m.manifest.scaler.scale[j] ?? 1) * (uniform() - 0.5));
    });
  }
  const plant = { start: end - W, end, stages } as PlantWindow;
  const predictions: PredictionRow[] = models.filter((m) => m.kind === 'predictor').flatMap((m) => m.targets.map((t) => ({ stage: t.stage, signal: t.signal, ts: end, horizonMin: t.horizonMin, value: uniform(), unit: '', model: m.id })));
  const anomalies: AnomalyRow[] = models.filter((m) => m.kind === 'autoencoder').map((m) => ({ stage: m.stage ?? 'aerobic', ts: end, score: 1, threshold: 2, isAnomaly: uniform() < 0.01, contributors: '[]', model: m.id }));
  const t = performance.now();
  lifecycle.onWindow(plant, { predictions, anomalies });
  times.push(performance.now() - t);
}
now = T0 + windows * W + 600_000;
await lifecycle.stop();
// A start publishes at once (its state store here is empty, so the rings in memory stay): one publish,
// with the figures of every version, the triggers, the message and the state save.
const publishStart = performance.now();
await lifecycle.start();
const publishMs = performance.now() - publishStart;
await lifecycle.stop();
for (const m of models) await m.session.release();

times.sort((a, b) => a - b);
const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(times.length * p))] ?? Number.NaN;
const targets = models.filter((m) => m.kind === 'predictor').reduce((a, m) => a + m.targets.length, 0);
const inputs = models.reduce((a, m) => a + m.inputs.length, 0);
const md = `## Live skill and drift in the window path (\`npx tsx bench/lifecycle/run.ts --days ${DAYS}\`)

The lifecycle component (src/lifecycle/monitor.ts) with the ${models.length} shipped bundles loaded (${targets} predictor targets, ${inputs} model
inputs), fed ${windows.toLocaleString('en-US')} five-minute windows (${DAYS} plant days) with one prediction per target and one anomaly row per
autoencoder each window. \`onWindow\` is what every window pays between inference and alarms; a publish (every
\`models.lifecycle.publishSec\`, from a timer: between windows, on the same event loop) computes the figures of every version, judges the triggers and
builds \`edge/models\`; the state is saved every 10 minutes.

| measure | result |
|---|---|
| onWindow per window, p50 / p99 / max | ${q(0.5).toFixed(3)} / ${q(0.99).toFixed(3)} / ${(times.at(-1) ?? Number.NaN).toFixed(3)} ms |
| one publish after ${DAYS} days (figures, triggers, message, state save) | ${publishMs.toFixed(1)} ms, message ${(published / 1024).toFixed(0)} kB |
| state after ${DAYS} days (rings as JSON) | ${(stateBytes / 1024).toFixed(0)} kB, serialised in ${saveMs.toFixed(1)} ms |

Node ${process.version}, ${process.arch}; load average ${loadavg()[0]?.toFixed(2) ?? '?'} when the run ended (other work shares the cores).
`;
writeReportSection('docs/benchmarks.md', 'lifecycle', md);
process.stdout.write(md);
