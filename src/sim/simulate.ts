import { resolve } from 'node:path';
import type { SignalConfig } from '../config/schema.js';
import { loadConfig, repoRoot } from '../config/load.js';
import { createEngine, type Engine, type LoopSetpoints } from './engine.js';
import { groundTruth, type Fault, type GroundTruth } from './faults.js';
import { constantInfluent, influentPath, isNamedInfluent, loadInfluent, type InfluentName, type InfluentSeries } from './influent.js';
import { existsSync } from 'node:fs';
import { generateInfluent } from './influent-gen.js';
import type { PlantKind } from './layout.js';
import { evaluatePerformance, type PerformanceFigures } from './performance.js';
import { SensorLayer } from './sensors.js';

/** What a supervisory controller sees at the end of each control interval. */
export interface ControlContext {
  /** Plant time, days since the run start. */
  t: number;
  /** Plant time, epoch ms. */
  ts: number;
  /** Latest sensor reading of every configured signal, keyed `stage/signal`. */
  readings: Readonly<Record<string, number>>;
}
/**
 * Called once per control interval; returns setpoints for some loops. A loop left out (or
 * `undefined`/nothing returned) runs on the PLC's local setpoint, i.e. BSM1 default control.
 */
export type ControlCallback = (ctx: ControlContext) => LoopSetpoints | void;

export interface SimulateOptions {
  influent?: InfluentName | InfluentSeries | string;
  days?: number;
  /** 'default' (BSM1 PI loops), 'open' (BSM1 open loop) or a supervisory callback over the PLC loops. */
  control?: 'default' | 'open' | ControlCallback;
  controlIntervalMin?: number;
  seed?: number;
  faults?: readonly Fault[];
  /** PLC sensor noise (BSM1 sigma); default true. */
  noise?: boolean;
  /** Ideal PLC sensors and actuators; default false. */
  ideal?: boolean;
  /** BSM1 protocol start (100 d constant influent, then 14 d dry weather); default true. */
  stabilise?: boolean;
  /** Period of the returned time series, min; default 15. */
  sampleMin?: number;
  signals?: readonly SignalConfig[];
  epochMs?: number;
  dataDir?: string;
  onProgress?: (doneDays: number, totalDays: number) => void;
  /**
   * 'bsm1' (default): the exact BSM1 plant, as validated; 'full': primary clarifier in front of the
   * activated sludge, phosphate balance, membrane and chemical P stage acting on the effluent.
   */
  plant?: PlantKind;
}

export interface SimulateResult {
  /** BSM1 figures over days 7-14 (absent for runs shorter than 14 days). */
  performance?: PerformanceFigures;
  series: { t: number[]; ts: number[]; readings: Record<string, number[]> };
  groundTruth: GroundTruth[];
  engine: Engine;
  wallMs: number;
}

/** The BSM1 and SKAB files: `WWTP_EDGE_DATA`, else `../shared/data` next to the installation. */
export function defaultDataDir(): string {
  return process.env['WWTP_EDGE_DATA'] ?? resolve(repoRoot, '..', 'shared', 'data');
}

export function resolveInfluent(source: InfluentName | InfluentSeries | string, dataDir: string): InfluentSeries {
  return typeof source === 'string' ? loadInfluent(source, dataDir) : source;
}

/** Rain events per week of the generated weathers that stand in for the BSM1 files. */
const GENERATED_RAIN: Record<string, number> = { dry: 1, rain: 3, storm: 5, generated: 1.5 };

/**
 * The twin's weather: a BSM1 file when it is installed, else (or for `generated`) the seeded influent
 * generator. An explicit FILE that does not exist is an error (MissingDataError).
 */
export function twinInfluent(source: string, dataDir: string, seed: number): InfluentSeries {
  if (source === 'generated' || (isNamedInfluent(source) && source !== 'const' && !existsSync(influentPath(source, dataDir)))) {
    return generateInfluent({ seed, rainPerWeek: GENERATED_RAIN[source] ?? 1.5 });
  }
  return loadInfluent(source, dataDir);
}

/** Whether the BSM1 weather files are installed under dataDir. */
export function bsm1Installed(dataDir: string): boolean {
  return existsSync(influentPath('dry', dataDir));
}

const stabilised = new Map<string, Float64Array>();

/**
 * BSM1 start state: 100 d closed loop with the constant influent (ideal sensors), then 14 d of dry
 * weather with sensor and actuator models ([REPORT] section 4). Cached per process.
 */
export function stabilisedState(control: 'closed' | 'open', dataDir: string, ideal = false, plant: PlantKind = 'bsm1', dry?: InfluentSeries): Float64Array {
  const key = `${control}:${ideal}:${plant}:${dry?.name ?? 'dry'}`;
  const hit = stabilised.get(key);
  if (hit) return Float64Array.from(hit);
  const warm = createEngine({ influent: constantInfluent(), seed: 0, noise: false, ideal: true, control, faults: [], plant });
  for (let i = 0; i < 100 * 1440; i++) warm.tick();
  const dryRun = createEngine({ influent: dry ?? loadInfluent('dry', dataDir), seed: 0, noise: !ideal, ideal, control, faults: [], initial: warm.x, plant });
  for (let i = 0; i < 14 * 1440; i++) dryRun.tick();
  stabilised.set(key, Float64Array.from(dryRun.x));
  return Float64Array.from(dryRun.x);
}

/** Runs the twin without MQTT and returns BSM1 performance and a sampled series of every signal. */
export function simulate(opts: SimulateOptions = {}): SimulateResult {
  const started = performance.now();
  const dataDir = opts.dataDir ?? defaultDataDir();
  const days = opts.days ?? 14;
  const seed = opts.seed ?? 1;
  const faults = opts.faults ?? [];
  const epochMs = opts.epochMs ?? Date.UTC(2025, 0, 1);
  const control = opts.control ?? 'default';
  const mode = control === 'open' ? 'open' : 'closed';
  const ideal = opts.ideal ?? false;
  const influent = resolveInfluent(opts.influent ?? 'dry', dataDir);
  const plant = opts.plant ?? 'bsm1';
  const initial = opts.stabilise === false ? undefined : stabilisedState(mode, dataDir, ideal, plant);
  const engine = createEngine({ influent, seed, noise: opts.noise ?? true, ideal, control: mode, faults, initial, plant });
  const signals = opts.signals ?? loadConfig().signals;
  const sensors = new SensorLayer(signals, seed, faults);
  const intervalMin = opts.controlIntervalMin ?? 15;
  const sampleMin = opts.sampleMin ?? 15;
  const series: SimulateResult['series'] = { t: [], ts: [], readings: {} };
  for (const s of signals) series.readings[`${s.stage}/${s.id}`] = [];
  const totalMin = Math.round(days * 1440);
  sensors.read(engine.truth, 0);
  for (let m = 1; m <= totalMin; m++) {
    engine.tick();
    sensors.read(engine.truth, m);
    const t = m / 1440;
    if (typeof control === 'function' && m % intervalMin === 0) {
      engine.setLoops(control({ t, ts: epochMs + m * 60_000, readings: sensors.snapshot() }) ?? {});
    }
    if (m % sampleMin === 0) {
      series.t.push(t);
      series.ts.push(epochMs + m * 60_000);
      for (const [key, values] of Object.entries(series.readings)) values.push(sensors.latest.get(key) ?? Number.NaN);
    }
    if (opts.onProgress && m % 1440 === 0) opts.onProgress(m / 1440, days);
  }
  const performanceFigures = days >= 14 - 1e-9 ? evaluatePerformance(engine.samples, 7, 14) : undefined;
  return {
    ...(performanceFigures ? { performance: performanceFigures } : {}),
    series, groundTruth: groundTruth(faults, epochMs), engine, wallMs: performance.now() - started,
  };
}
