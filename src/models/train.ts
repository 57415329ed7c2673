import { readFileSync } from 'node:fs';
import type { EdgeConfig } from '../config/schema.js';
import type { PlantWindow, StageWindow } from '../contract/ports.js';
import type { LearntFrom } from '../onnx/manifest.js';
import { modelsForPlant, type LeftOut } from './available.js';
import { signalRange, type SignalRange } from './metrics.js';
import type { FeatureRef } from './specs.js';
import { judgedAlarms, storeReadings, storedSignals, windowReadings, type JudgedAlarm, type StoredSignal } from './store-data.js';
import { alarmLeadMs } from './verdicts.js';
import { isStage } from '../contract/plant.js';
import type { Reading } from '../contract/reading.js';
import { EdgeError } from '../lib/lifecycle.js';
import type { Bundle } from '../onnx/bundle.js';
import type { PlantKind } from '../sim/layout.js';
import { loadTf } from '../training/tf.js';
import type { TrainProgress } from '../training/train.js';
import { StageWindower, stagesWithSignals } from '../windows/index.js';
import { trainStageAutoencoder, type StageTrainingContext } from './train-autoencoder.js';
import { PREDICTOR_SPECS, predictorName, runTimeBlocks, trainStagePredictor } from './train-predictors.js';
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
  /**
   * SQLite store (storage.path) to learn from: readings of [since, until), only the stages and signals
   * it holds; time-blocked, the most recent third of the span held out (HELD_OUT_SHARE), or the most
   * recent `heldOutDays` when that is shorter.
   */
  readonly fromStore?: string;
  /** A store's held-out block: at most this many of its most recent days (the retraining gate's block). */
  readonly heldOutDays?: number;
  readonly since?: number;
  readonly until?: number;
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
  /** Models and inputs the data could not feed, and why (plant history only). */
  readonly leftOut: readonly LeftOut[];
  /** The training and held-out blocks (plant history only). */
  readonly blocks?: { readonly train: { first: number; last: number; windows: number }; readonly heldOut: { first: number; last: number; windows: number } };
}

export interface DataSets {
  readonly train: PlantWindow[];
  readonly heldOut: PlantWindow[];
  readonly source: string;
  /** Plant history: signals with usable readings (`stage.signal`), and the ones stored. */
  readonly present?: ReadonlySet<string>;
  readonly stored?: readonly StoredSignal[];
  /** Twin runs (training and held-out seeds), each a stretch of event time of its own. */
  readonly twin?: true;
  /** Plant history in a store: the alarm episodes operators judged over the span (labels for the detectors). */
  readonly verdicts?: readonly JudgedAlarm[];
  /** How the held-out block was chosen (plant history). */
  readonly heldOutRule?: string;
}

/** Share of a plant history's time span held out, the most recent part: trained on the past, judged on what came after. */
export const HELD_OUT_SHARE = 1 / 3;
export const HELD_OUT_RULE = 'the most recent third of the span (by window end time)';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Time-blocked split of a plant history: windows ending before the cut train, the rest is held out. */
export function timeBlocks(windows: readonly PlantWindow[], share = HELD_OUT_SHARE): { train: PlantWindow[]; heldOut: PlantWindow[]; cut: number } {
  const first = windows[0]?.end ?? 0;
  const last = windows[windows.length - 1]?.end ?? 0;
  const cut = last - (last - first) * share;
  return { train: windows.filter((w) => w.end < cut), heldOut: windows.filter((w) => w.end >= cut), cut };
}

function storeDataSets(opts: TrainModelOptions & { fromStore: string }, onProgress?: (p: TrainModelProgress) => void): DataSets {
  const span = { since: opts.since, until: opts.until };
  const stored = storedSignals(opts.fromStore, span);
  const total = stored.reduce((a, s) => a + s.readings, 0);
  const range = `from ${opts.since !== undefined ? iso(opts.since) : 'the first'} to ${opts.until !== undefined ? `before ${iso(opts.until)}` : 'the last'}`;
  if (total === 0) throw new EdgeError('TRAIN_NO_DATA', `the store ${opts.fromStore} holds no usable readings ${range}`, 2);
  onProgress?.({ phase: 'data', done: 0, total, label: 'readings' });
  const windows = windowReadings(opts.config, storeReadings(opts.fromStore, span), (n) => onProgress?.({ phase: 'data', done: n, total, label: 'readings' }));
  onProgress?.({ phase: 'data', done: total, total, label: 'readings' });
  const first = windows[0]?.end ?? 0;
  const spanMs = (windows[windows.length - 1]?.end ?? 0) - first;
  const days = opts.heldOutDays;
  const short = days !== undefined && spanMs > 0 && days * 86_400_000 < spanMs * HELD_OUT_SHARE;
  const { train, heldOut } = timeBlocks(windows, short ? (days * 86_400_000) / spanMs : HELD_OUT_SHARE);
  const rule = short ? `the most recent ${days} d of the span (by window end time)` : HELD_OUT_RULE;
  return {
    train, heldOut, stored, heldOutRule: rule,
    verdicts: judgedAlarms(opts.fromStore, span),
    present: new Set(stored.map((s) => `${s.stage}.${s.signal}`)),
    source: `SQLite store ${opts.fromStore}, readings ${range}, time-blocked: held out ${rule}`,
  };
}

/** What a bundle learnt from: the blocks' spans and the range of each of its signals' window means in training. */
function learntFromOf(data: DataSets): ((refs: readonly FeatureRef[], heldOutWindows: number) => LearntFrom) | undefined {
  const first = data.train[0]?.end;
  const last = data.train[data.train.length - 1]?.end;
  if (first === undefined || last === undefined) return undefined;
  const held = data.heldOut;
  return (refs, heldOutWindows) => {
    const signals: Record<string, SignalRange> = {};
    for (const r of refs) {
      const k = `${r.stage}.${r.signal}`;
      if (signals[k]) continue;
      const values: number[] = [];
      for (const w of data.train) {
        const f = w.stages[r.stage]?.signals[r.signal];
        if (f && !f.stale && Number.isFinite(f.mean)) values.push(f.mean);
      }
      const range = signalRange(values);
      if (range) signals[k] = range;
    }
    const heldFirst = held[0]?.end;
    const heldLast = held[held.length - 1]?.end;
    return {
      first: iso(first), last: iso(last), signals,
      ...(heldFirst !== undefined && heldLast !== undefined ? { heldOut: { first: iso(heldFirst), last: iso(heldLast), windows: heldOutWindows, rule: data.heldOutRule ?? (data.present ? HELD_OUT_RULE : 'the most recent 20 % of the windows') } } : {}),
    };
  };
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

/** Twin runs over every weather, regime and seed: the training seeds train, the held-out seeds measure. */
export function twinDataSets(config: EdgeConfig, twin: typeof TRAINING_TWIN, onProgress?: (p: TrainModelProgress) => void): DataSets {
  const runs = [...twin.trainSeeds.map((seed) => ({ seed, held: false })), ...twin.heldOutSeeds.map((seed) => ({ seed, held: true }))]
    .flatMap((r) => twin.weathers.flatMap((influent) => twin.regimes.map((control) => ({ ...r, influent, control }))));
  const train: PlantWindow[] = [];
  const heldOut: PlantWindow[] = [];
  runs.forEach((r, i) => {
    const label = `${r.influent}/${r.control}/seed ${r.seed}`;
    onProgress?.({ phase: 'data', done: i, total: runs.length, label });
    // Each run on its own stretch of event time (targets are looked up by window end), 14 weeks apart so that
    // every run starts on the same weekday (the influent's weekly pattern).
    const epochMs = Date.UTC(2025, 0, 1) + i * 98 * 86_400_000;
    const run = runTwinWindows({
      influent: r.influent, days: twin.days, seed: r.seed, signals: config.signals, windows: config.windows, epochMs,
      plant: twin.plant, control: r.control, controlConfig: config.control,
    });
    (r.held ? heldOut : train).push(...run.windows);
  });
  onProgress?.({ phase: 'data', done: runs.length, total: runs.length, label: 'done' });
  const source = `plant twin (${twin.plant === 'full' ? 'full nine-stage plant' : 'BSM1 plant'}) ${twin.weathers.join('/')} weather x control ${twin.regimes.join('/')} `
    + `x ${twin.days} d, training seeds ${twin.trainSeeds.join(',')}, held-out seeds ${twin.heldOutSeeds.join(',')}`;
  return { train, heldOut, source, twin: true };
}

function dataSets(opts: TrainModelOptions, onProgress?: (p: TrainModelProgress) => void): DataSets {
  if (opts.windows) return opts.windows;
  if (opts.data) return splitByTime(windowReadings(opts.config, csvReadings(opts.data)), `readings CSV ${opts.data}`);
  if (opts.fromStore) return storeDataSets({ ...opts, fromStore: opts.fromStore }, onProgress);
  return twinDataSets(opts.config, { ...TRAINING_TWIN, ...opts.twin }, onProgress);
}

/**
 * Predictors on the twin are judged as on a plant: trained on the first two thirds of each training
 * run, judged on the last third of each held-out run (a later time block, and seeds never trained on).
 */
function predictorContext(ctx: StageTrainingContext, data: DataSets): StageTrainingContext {
  if (!data.twin) return ctx;
  return {
    ...ctx,
    train: runTimeBlocks(data.train, HELD_OUT_SHARE).first,
    heldOut: runTimeBlocks(data.heldOut, HELD_OUT_SHARE).later,
    source: `${data.source}; trained on the first two thirds of each training run, held out the last third of each held-out run`,
  };
}

/** `wwtp-edge train <model>`: data, scalers, training with early stopping, verified ONNX bundles. */
export async function trainModel(opts: TrainModelOptions, onProgress?: (p: TrainModelProgress) => void): Promise<TrainModelResult> {
  if (!(TRAINABLE_MODELS as readonly string[]).includes(opts.model)) {
    throw new EdgeError('TRAIN_UNKNOWN_MODEL', `unknown model "${opts.model}" (choose ${TRAINABLE_MODELS.join(' or ')})`, 2);
  }
  const data = dataSets(opts, onProgress);
  const plant = data.present ? modelsForPlant(PREDICTOR_SPECS, opts.config.signals, data.present, data.stored) : undefined;
  const leftOut: LeftOut[] = [...(plant?.leftOut ?? [])];
  const learntFrom = opts.data || opts.fromStore ? learntFromOf(data) : undefined;
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
    ...(learntFrom ? { learntFrom } : {}),
    ...(data.verdicts ? { verdicts: data.verdicts, alarmLeadMs: alarmLeadMs(opts.config) } : {}),
  };
  const bundles: Bundle[] = [];
  const jobs: { name: string; run: () => Promise<Bundle | undefined> }[] = opts.model === 'autoencoder'
    ? (plant
      ? plant.autoencoderStages.map((a) => ({ name: `anomaly-${a.stage}`, run: () => trainStageAutoencoder(ctx, a.stage, a.inputs) }))
      : stagesWithSignals(opts.config.signals).map((stage) => ({ name: `anomaly-${stage}`, run: () => trainStageAutoencoder(ctx, stage) })))
    : (plant?.predictors ?? PREDICTOR_SPECS).map((spec) => ({ name: predictorName(spec), run: () => trainStagePredictor(predictorContext(ctx, data), spec) }));
  for (const job of jobs) {
    let bundle: Bundle | undefined;
    try {
      bundle = await job.run();
    } catch (error) {
      // A plant's history may not feed a model its specs allow (a signal stored for a day only): left out, said why.
      if (!plant || !(error instanceof Error) || !error.message.includes('too few complete windows')) throw error;
      leftOut.push({ what: job.name, why: error.message.replace(`${job.name}: `, '') });
      continue;
    }
    if (bundle) {
      bundles.push(bundle);
      onProgress?.({ phase: 'written', model: bundle.manifest.name, dir: bundle.dir });
    }
  }
  const kept = new Set(plant ? (opts.model === 'autoencoder' ? plant.autoencoderStages.map((a) => `anomaly-${a.stage}`) : plant.predictors.map(predictorName)) : []);
  const relevant = leftOut.filter((l) => !l.what.startsWith(opts.model === 'autoencoder' ? 'predict-' : 'anomaly-') || kept.has(l.what));
  const block = (w: readonly PlantWindow[]): { first: number; last: number; windows: number } => ({ first: w[0]?.end ?? Number.NaN, last: w[w.length - 1]?.end ?? Number.NaN, windows: w.length });
  return { bundles, source: data.source, leftOut: relevant, ...(plant ? { blocks: { train: block(data.train), heldOut: block(data.heldOut) } } : {}) };
}
