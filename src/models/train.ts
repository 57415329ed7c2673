import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { EdgeConfig } from '../config/schema.js';
import type { PlantWindow, StageWindow } from '../contract/ports.js';
import { isStage } from '../contract/plant.js';
import type { Reading } from '../contract/reading.js';
import { EdgeError } from '../lib/lifecycle.js';
import type { Bundle } from '../onnx/bundle.js';
import type { PlantKind } from '../sim/layout.js';
import { loadTf } from '../training/tf.js';
import type { TrainProgress } from '../training/train.js';
import { StageWindower, stagesWithSignals } from '../windows/index.js';
import { trainStageAutoencoder, type StageTrainingContext } from './train-autoencoder.js';
import { PREDICTOR_SPECS, trainStagePredictor } from './train-predictors.js';
import type { ControlRegime } from './twin-control.js';
import { groupPlantWindows, runTwinWindows, type Weather } from './twin-windows.js';

export const TRAINABLE_MODELS = ['autoencoder', 'predictors'] as const;
export type TrainableModel = (typeof TRAINABLE_MODELS)[number];

/**
 * Twin runs behind the shipped bundles: the plant as the daemon runs it (the full nine stages) under
 * every control regime it sees: BSM1 default control, the daemon's supervisory control, and the latter
 * with operator moves. The evaluations use other seeds.
 */
export const TRAINING_TWIN = {
  plant: 'full' as PlantKind,
  weathers: ['dry', 'rain', 'storm'] as Weather[],
  regimes: ['default', 'supervisory', 'operated'] as ControlRegime[],
  trainSeeds: [101, 102],
  heldOutSeeds: [201],
  days: 14,
};

export interface TrainModelOptions {
  readonly model: TrainableModel;
  readonly config: EdgeConfig;
  /** Readings CSV (`ts,stage,signal,value`, ts epoch ms or ISO-8601); the last 20 % of time is held out. */
  readonly data?: string;
  /** SQLite store (storage.path) to read the readings from; same split as a CSV. */
  readonly fromStore?: string;
  /** Models folder to write `<name>/<version>` into (default config.models.dir). */
  readonly out?: string;
  readonly version?: string;
  readonly seed?: number;
  /** Fixed manifest createdAt, for byte-identical rebuilds. */
  readonly createdAt?: string;
  readonly twin?: Partial<typeof TRAINING_TWIN>;
  readonly maxRows?: number;
  /** Plant windows already built (several models from one twin run). */
  readonly windows?: DataSets;
}

export type TrainModelProgress =
  | { readonly phase: 'data'; readonly done: number; readonly total: number; readonly label: string }
  | { readonly phase: 'train'; readonly model: string; readonly progress: TrainProgress }
  | { readonly phase: 'written'; readonly model: string; readonly dir: string };

export interface TrainModelResult {
  readonly bundles: readonly Bundle[];
  readonly source: string;
}

export interface DataSets {
  readonly train: PlantWindow[];
  readonly heldOut: PlantWindow[];
  readonly source: string;
}

function windowReadings(config: EdgeConfig, readings: Iterable<Reading>): PlantWindow[] {
  const windower = new StageWindower({ windows: config.windows, signals: config.signals });
  const out: StageWindow[] = [];
  for (const r of readings) out.push(...windower.push(r));
  out.push(...windower.flush());
  return groupPlantWindows(out);
}

/** Time-ordered split: the plant's future is never seen in training. */
function splitByTime(windows: PlantWindow[], source: string): DataSets {
  const cut = Math.floor(windows.length * 0.8);
  return { train: windows.slice(0, cut), heldOut: windows.slice(cut), source };
}

function* csvReadings(file: string): Generator<Reading> {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string): number => header.indexOf(name);
  const [its, istage, isignal, ivalue] = [col('ts'), col('stage'), col('signal'), col('value')];
  if (its < 0 || istage < 0 || isignal < 0 || ivalue < 0) throw new EdgeError('TRAIN_BAD_CSV', `${file}: header must name ts, stage, signal, value`, 2);
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const cells = line.split(',');
    const stage = cells[istage]?.trim() ?? '';
    const rawTs = cells[its]?.trim() ?? '';
    const ts = /^\d+$/.test(rawTs) ? Number(rawTs) : Date.parse(rawTs);
    const value = Number(cells[ivalue]);
    if (!isStage(stage) || !Number.isFinite(ts) || !Number.isFinite(value)) continue;
    yield { stage, signal: cells[isignal]?.trim() ?? '', ts, value, quality: 'good', receivedAt: ts };
  }
}

function* storeReadings(path: string): Generator<Reading> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT stage, signal, ts, value, quality FROM readings WHERE quality != 'bad' ORDER BY ts").iterate() as Iterable<{ stage: string; signal: string; ts: number; value: number; quality: Reading['quality'] }>;
    for (const r of rows) if (isStage(r.stage)) yield { stage: r.stage, signal: r.signal, ts: r.ts, value: r.value, quality: r.quality, receivedAt: r.ts };
  } finally {
    db.close();
  }
}

/** Twin runs over every weather, regime and seed: the training seeds train, the held-out seeds measure. */
export function twinDataSets(config: EdgeConfig, twin: typeof TRAINING_TWIN, onProgress?: (p: TrainModelProgress) => void): DataSets {
  const runs = [...twin.trainSeeds.map((seed) => ({ seed, held: false })), ...twin.heldOutSeeds.map((seed) => ({ seed, held: true }))]
    .flatMap((r) => twin.weathers.flatMap((influent) => twin.regimes.map((control) => ({ ...r, influent, control }))));
  const train: PlantWindow[] = [];
  const heldOut: PlantWindow[] = [];
  runs.forEach((r, i) => {
    const label = `${r.influent}/${r.control}/seed ${r.seed}`;
    onProgress?.({ phase: 'data', done: i, total: runs.length, label });
    // Each run on its own stretch of event time: targets are looked up by window end.
    const epochMs = Date.UTC(2025, 0, 1) + i * 100 * 86_400_000;
    const run = runTwinWindows({
      influent: r.influent, days: twin.days, seed: r.seed, signals: config.signals, windows: config.windows, epochMs,
      plant: twin.plant, control: r.control, controlConfig: config.control,
    });
    (r.held ? heldOut : train).push(...run.windows);
  });
  onProgress?.({ phase: 'data', done: runs.length, total: runs.length, label: 'done' });
  const source = `plant twin (${twin.plant === 'full' ? 'full nine-stage plant' : 'BSM1 plant'}) ${twin.weathers.join('/')} weather x control ${twin.regimes.join('/')} `
    + `x ${twin.days} d, training seeds ${twin.trainSeeds.join(',')}, held-out seeds ${twin.heldOutSeeds.join(',')}`;
  return { train, heldOut, source };
}

function dataSets(opts: TrainModelOptions, onProgress?: (p: TrainModelProgress) => void): DataSets {
  if (opts.windows) return opts.windows;
  if (opts.data) return splitByTime(windowReadings(opts.config, csvReadings(opts.data)), `readings CSV ${opts.data}`);
  if (opts.fromStore) return splitByTime(windowReadings(opts.config, storeReadings(opts.fromStore)), `SQLite store ${opts.fromStore}`);
  return twinDataSets(opts.config, { ...TRAINING_TWIN, ...opts.twin }, onProgress);
}

/** `wwtp-edge train <model>`: data, scalers, training with early stopping, verified ONNX bundles. */
export async function trainModel(opts: TrainModelOptions, onProgress?: (p: TrainModelProgress) => void): Promise<TrainModelResult> {
  if (!(TRAINABLE_MODELS as readonly string[]).includes(opts.model)) {
    throw new EdgeError('TRAIN_UNKNOWN_MODEL', `unknown model "${opts.model}" (choose ${TRAINABLE_MODELS.join(' or ')})`, 2);
  }
  const data = dataSets(opts, onProgress);
  const loaded = await loadTf();
  const ctx: StageTrainingContext = {
    loaded,
    signals: opts.config.signals,
    train: data.train,
    heldOut: data.heldOut,
    source: data.source,
    modelsDir: opts.out ?? opts.config.models.dir,
    version: opts.version ?? new Date().toISOString().slice(0, 10).replaceAll('-', ''),
    seed: opts.seed ?? 42,
    maxRows: opts.maxRows ?? 6_000,
    onEpoch: (model, progress) => onProgress?.({ phase: 'train', model, progress }),
    ...(opts.createdAt ? { createdAt: opts.createdAt } : {}),
  };
  const bundles: Bundle[] = [];
  if (opts.model === 'autoencoder') {
    for (const stage of stagesWithSignals(opts.config.signals)) {
      const bundle = await trainStageAutoencoder(ctx, stage);
      if (bundle) {
        bundles.push(bundle);
        onProgress?.({ phase: 'written', model: bundle.manifest.name, dir: bundle.dir });
      }
    }
  } else {
    for (const spec of PREDICTOR_SPECS) {
      const bundle = await trainStagePredictor(ctx, spec);
      bundles.push(bundle);
      onProgress?.({ phase: 'written', model: bundle.manifest.name, dir: bundle.dir });
    }
  }
  return { bundles, source: data.source };
}
