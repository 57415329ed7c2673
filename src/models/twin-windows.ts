import { loadConfig } from '../config/load.js';
import type { ControlConfig, SignalConfig, WindowsConfig } from '../config/schema.js';
import type { PlantWindow, StageWindow } from '../contract/ports.js';
import { isStage, type StageId } from '../contract/plant.js';
import type { Reading } from '../contract/reading.js';
import { createEngine, type LoopSetpoints } from '../sim/engine.js';
import type { Fault, GroundTruth } from '../sim/faults.js';
import { groundTruth } from '../sim/faults.js';
import type { PlantKind } from '../sim/layout.js';
import { SensorLayer } from '../sim/sensors.js';
import { defaultDataDir, resolveInfluent, stabilisedState } from '../sim/simulate.js';
import { StageWindower, stagesWithSignals } from '../windows/index.js';
import { createSetpointLine, createSupervisor, type ControlRegime } from './twin-control.js';

export type Weather = 'dry' | 'rain' | 'storm';

export interface TwinRunOptions {
  readonly influent: Weather;
  readonly days: number;
  readonly seed: number;
  readonly faults?: readonly Fault[];
  readonly signals: readonly SignalConfig[];
  readonly windows: WindowsConfig;
  readonly epochMs?: number;
  readonly dataDir?: string;
  /** 'full' (default): the nine-stage plant the daemon runs in demo and sim; 'bsm1': the bare BSM1 plant. */
  readonly plant?: PlantKind;
  /** Who drives the loops (default 'default', BSM1 default control); see ControlRegime. */
  readonly control?: ControlRegime;
  /** The daemon's control section for the supervisory regimes (default: config/default.yaml's). */
  readonly controlConfig?: ControlConfig;
}

export interface TwinRun {
  readonly windows: PlantWindow[];
  readonly truth: GroundTruth[];
  readonly label: string;
}

/** A twin run advanced minute by minute, for callers that close the loop themselves (e.g. asynchronously). */
export interface TwinStepper {
  readonly totalMin: number;
  readonly truth: GroundTruth[];
  readonly label: string;
  /** Advances one plant minute; returns the plant windows its readings closed (every stage in), oldest first. */
  step(): PlantWindow[];
  /** Supervisory setpoints for the next minutes (undefined loops run on the PLC's local setpoint). */
  setLoops(sp: LoopSetpoints): void;
  /** Every plant window of the run, incomplete ones included, in end order (after the last step). */
  finish(): PlantWindow[];
}

/** Groups stage windows by their end, as the daemon's alignPlant does, in end order. */
export function groupPlantWindows(stageWindows: readonly StageWindow[]): PlantWindow[] {
  const byEnd = new Map<number, { start: number; end: number; stages: Partial<Record<StageId, StageWindow>> }>();
  for (const w of stageWindows) {
    let p = byEnd.get(w.end);
    if (!p) {
      p = { start: w.start, end: w.end, stages: {} };
      byEnd.set(w.end, p);
    }
    p.stages[w.stage] = w;
  }
  return [...byEnd.values()].sort((a, b) => a.end - b.end);
}

/**
 * The plant twin in process (the engine from its stabilised start, its sensor layer with noise and
 * faults), every reading fed as it falls due into the daemon's own StageWindower.
 */
export function createTwinStepper(opts: TwinRunOptions): TwinStepper {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const faults = opts.faults ?? [];
  const plant = opts.plant ?? 'full';
  const epochMs = opts.epochMs ?? Date.UTC(2025, 0, 1);
  const engine = createEngine({
    influent: resolveInfluent(opts.influent, dataDir), seed: opts.seed, noise: true, ideal: false, control: 'closed', faults,
    initial: stabilisedState('closed', dataDir, false, plant), plant,
  });
  const sensors = new SensorLayer(opts.signals, opts.seed, faults);
  const windower = new StageWindower({ windows: opts.windows, signals: opts.signals });
  const stageWindows: StageWindow[] = [];
  const stages = stagesWithSignals(opts.signals);
  const staged = new Set(stages);
  const pending = new Map<number, Partial<Record<StageId, StageWindow>>>();
  let m = 0;
  const feed = (due: ReturnType<SensorLayer['read']>): PlantWindow[] => {
    const ts = epochMs + m * 60_000;
    const closed: StageWindow[] = [];
    for (const r of due) {
      if (!isStage(r.stage) || !staged.has(r.stage)) continue;
      closed.push(...windower.push({ stage: r.stage, signal: r.signal, ts, value: r.value, quality: 'good', receivedAt: ts }));
    }
    stageWindows.push(...closed);
    for (const w of closed) pending.set(w.end, { ...pending.get(w.end), [w.stage]: w });
    // A complete group also releases older incomplete ones (a stage without a single reading).
    const ends = [...pending.keys()].sort((a, b) => a - b);
    const lastComplete = ends.filter((e) => stages.every((s) => pending.get(e)?.[s] !== undefined)).at(-1);
    const out: PlantWindow[] = [];
    if (lastComplete === undefined) return out;
    for (const end of ends) {
      if (end > lastComplete) break;
      const group = pending.get(end) ?? {};
      pending.delete(end);
      const any = Object.values(group)[0];
      if (any) out.push({ start: any.start, end, stages: group });
    }
    return out;
  };
  feed(sensors.read(engine.truth, 0));
  return {
    totalMin: Math.round(opts.days * 1440),
    truth: groundTruth(faults, epochMs),
    label: `${opts.influent}/seed${opts.seed}/${plant}/${opts.control ?? 'default'}`,
    step() {
      m += 1;
      engine.tick();
      return feed(sensors.read(engine.truth, m));
    },
    setLoops: (sp) => engine.setLoops(sp),
    finish() {
      stageWindows.push(...windower.flush());
      return groupPlantWindows(stageWindows);
    },
  };
}

/**
 * A whole twin run under one control regime: in the supervisory ones the daemon's control sees every
 * closed plant window and its setpoints drive the PLC after a seeded latency (Supervisor.delayMin).
 */
export function runTwinWindows(opts: TwinRunOptions): TwinRun {
  const stepper = createTwinStepper(opts);
  const regime = opts.control ?? 'default';
  const supervisor = regime === 'default' ? undefined : createSupervisor(opts.controlConfig ?? loadConfig().control, regime, opts.seed);
  const line = supervisor ? createSetpointLine(supervisor) : undefined;
  for (let m = 1; m <= stepper.totalMin; m += 1) {
    const closed = stepper.step();
    if (!supervisor || !line) continue;
    for (const w of closed) {
      supervisor.onWindow(w);
      line.send(m);
    }
    const due = line.arrived(m);
    if (due) stepper.setLoops(due);
  }
  return { windows: stepper.finish(), truth: stepper.truth, label: stepper.label };
}
