import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { EdgeConfig } from '../../src/config/schema.js';
import type { AlarmCondition, AlarmSink, PlantWindow, Publisher, SignalFeatures, StageWindow, StateStore, TableWriter } from '../../src/contract/ports.js';
import type { StageId } from '../../src/contract/plant.js';
import type { TableRows } from '../../src/contract/rows.js';
import type { OutKind, OutTopics } from '../../src/contract/topics.js';
import type { Clock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { writeModelBundle } from '../../src/models/bundle-writer.js';
import { autoencoderSpec, buildDenseNet, regressorSpec } from '../../src/training/models.js';
import { createRng } from '../../src/training/random.js';
import { fitScaler } from '../../src/training/scaler.js';
import { loadTf } from '../../src/training/tf.js';
import { trainDenseNet } from '../../src/training/train.js';
import type { InferenceContext } from '../../src/inference/index.js';

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), `wwtp-${prefix}-`));

export function features(value: number, extra: Partial<SignalFeatures> = {}): SignalFeatures {
  return { mean: value, last: value, min: value - 0.05, max: value + 0.05, slope: 0, count: 5, filled: 0, stale: false, gappy: false, ...extra };
}

export function plantWindow(end: number, stages: Partial<Record<StageId, Record<string, SignalFeatures>>>): PlantWindow {
  const out: Partial<Record<StageId, StageWindow>> = {};
  for (const [stage, signals] of Object.entries(stages) as [StageId, Record<string, SignalFeatures>][]) {
    out[stage] = { stage, start: end - 300_000, end, quality: 1, signals };
  }
  return { start: end - 300_000, end, stages: out };
}

/** Normal aerobic state of the tiny test models: nh4 and no3 follow DO. */
export function aerobicNormal(doValue: number): Record<string, SignalFeatures> {
  return { do: features(doValue), nh4_n: features(3 - doValue), no3_n: features(8 + 2 * doValue) };
}

const AE_INPUTS = ['do', 'nh4_n', 'no3_n'].map((signal) => ({ stage: 'aerobic', signal, feature: 'mean' }));

function normalRows(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const d = 0.5 + 2 * rng();
    return [d + 0.02 * (rng() - 0.5), 3 - d + 0.02 * (rng() - 0.5), 8 + 2 * d + 0.02 * (rng() - 0.5)];
  });
}

/** A small but real autoencoder bundle (TensorFlow.js -> ONNX -> verified), seconds to build. */
export async function buildTinyAutoencoder(modelsDir: string, version: string, seed = 7): Promise<void> {
  const loaded = await loadTf();
  const rows = normalRows(400, seed);
  const scaler = fitScaler(rows, { kind: 'standard' });
  const scaled = rows.map((r) => r.map((v, j) => (v - (scaler.center[j] ?? 0)) / (scaler.scale[j] ?? 1)));
  const spec = autoencoderSpec(3, [4, 2]);
  const model = buildDenseNet(loaded.tf, spec, seed);
  await trainDenseNet(loaded.tf, model, scaled, scaled, { epochs: 30, patience: 30, seed });
  await writeModelBundle(modelsDir, {
    loaded, model, spec, inputScaler: scaler, verificationRows: rows.slice(0, 8), replace: true,
    manifest: {
      name: 'anomaly-aerobic', version, kind: 'autoencoder', inputs: AE_INPUTS, threshold: 0.5, metrics: { test: 1 },
      training: { source: 'synthetic', rows: 400, seed, split: { mode: 'random', trainRows: 320, validationRows: 80 }, epochs: 30, layers: spec.layers.map((l) => ({ ...l })) },
    },
  }, rows.slice(8, 12), { 'aerobic.do': { min: 0, max: 4 } });
  model.dispose();
}

export async function buildTinyPredictor(modelsDir: string, version: string, seed = 3): Promise<void> {
  const loaded = await loadTf();
  const x = normalRows(300, seed);
  const y = x.map((r) => [(r[2] ?? 0) * 1.1]);
  const inputScaler = fitScaler(x, { kind: 'standard' });
  const outputScaler = fitScaler(y, { kind: 'standard' });
  const spec = regressorSpec(3, [4], 1);
  const model = buildDenseNet(loaded.tf, spec, seed);
  const sx = x.map((r) => r.map((v, j) => (v - (inputScaler.center[j] ?? 0)) / (inputScaler.scale[j] ?? 1)));
  const sy = y.map((r) => r.map((v, j) => (v - (outputScaler.center[j] ?? 0)) / (outputScaler.scale[j] ?? 1)));
  await trainDenseNet(loaded.tf, model, sx, sy, { epochs: 20, patience: 20, seed });
  await writeModelBundle(modelsDir, {
    loaded, model, spec, inputScaler, outputScaler, verificationRows: x.slice(0, 8), replace: true,
    manifest: {
      name: 'predict-effluent', version, kind: 'predictor', inputs: AE_INPUTS, targets: [{ stage: 'effluent', signal: 'no3_n', feature: 'mean@+15m' }], metrics: { test: 1 },
      training: { source: 'synthetic', rows: 300, seed, split: { mode: 'random', trainRows: 240, validationRows: 60 }, epochs: 20, layers: spec.layers.map((l) => ({ ...l })) },
    },
  }, x.slice(8, 12));
  model.dispose();
}

export interface Recorded {
  published: { kind: OutKind; params: unknown; payload: unknown }[];
  rows: { table: string; rows: readonly unknown[] }[];
  raised: AlarmCondition[];
  cleared: string[];
  state: Map<string, unknown>;
}

export interface ManualClock extends Clock {
  /** Runs the interval callbacks once (the registry poll). */
  tick(): void;
}

export function manualClock(start = Date.UTC(2025, 0, 1)): ManualClock {
  const intervals = new Set<() => void>();
  return {
    now: () => start,
    setTimeout: () => ({ clear: () => undefined }),
    setInterval(fn) {
      intervals.add(fn);
      return { clear: () => intervals.delete(fn) };
    },
    tick: () => intervals.forEach((fn) => fn()),
  };
}

export function testContext(modelsDir: string, clock: Clock = manualClock(), patch: (c: EdgeConfig) => EdgeConfig = (c) => c): { ctx: InferenceContext; rec: Recorded } {
  const base = loadConfig();
  const config = patch({ ...base, models: { ...base.models, dir: modelsDir } });
  const rec: Recorded = { published: [], rows: [], raised: [], cleared: [], state: new Map() };
  const publisher: Publisher = {
    publish<K extends OutKind>(kind: K, params: OutTopics[K]['params'], payload: OutTopics[K]['payload']) {
      rec.published.push({ kind, params, payload });
    },
  };
  const tables: TableWriter = {
    insert<T extends Exclude<keyof TableRows, 'readings'>>(table: T, rows: readonly TableRows[T][]) {
      rec.rows.push({ table, rows });
    },
  };
  const state: StateStore = { getState: <T>(key: string) => rec.state.get(key) as T | undefined, setState: (key, value) => void rec.state.set(key, value) };
  const alarms: AlarmSink = { raise: (c) => void rec.raised.push(c), clear: (id) => void rec.cleared.push(id) };
  return { ctx: { config, site: 'test', publisher, tables, state, alarms, logger: silentLogger(), metrics: createMetrics(false), clock }, rec };
}
