import type { ControlConfig, LoopConfig } from '../config/schema.js';
import type { LoopId, StageId } from '../contract/plant.js';
import type { PlantWindow } from '../contract/ports.js';
import type { AnomalyRow } from '../contract/rows.js';
import { createControl, type SetpointHistory } from '../control/index.js';
import type { Clock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import type { LoopSetpoints } from '../sim/engine.js';
import { createRng } from '../training/random.js';

/**
 * How the twin's loops are driven in a run:
 * - 'default': the PLC alone (BSM1 default control: DO and nitrate PI loops on their local setpoints);
 * - 'supervisory': the daemon's own control (policies and safety envelope) on every window close;
 * - 'operated': supervisory, plus seeded operator moves (now and then one loop goes to manual at a
 *   value within its envelope for a few hours, then back to auto) and seeded upsets (a loop's stage is
 *   flagged anomalous for a while, so its loops sit on their fallback setpoints, as in the daemon
 *   while a real anomaly lasts, and then return step by step).
 */
export const CONTROL_REGIMES = ['default', 'supervisory', 'operated'] as const;
export type ControlRegime = (typeof CONTROL_REGIMES)[number];

/** Operator moves per plant hour in the 'operated' regime (about three a day). */
export const OPERATOR_MOVES_PER_HOUR = 1 / 8;
const MOVE_MIN_HOURS = 1;
const MOVE_MAX_HOURS = 6;
/** A manual value lies within this many maxSteps of the loop's last setpoint (and inside its envelope). */
const MOVE_MAX_STEPS = 2;
/** Upsets per plant hour in the 'operated' regime (about two a day), each 0.5-3 h. */
export const UPSETS_PER_HOUR = 1 / 12;
const UPSET_MIN_HOURS = 0.5;
const UPSET_MAX_HOURS = 3;
/**
 * The daemon applies a window's setpoints after a latency: about a minute in real time, up to a
 * control interval when the twin runs in lockstep (it waits for answers only every 15 plant minutes).
 * Each window's setpoints reach the PLC 0..SETPOINT_MAX_DELAY_MIN minutes after the window closed.
 */
export const SETPOINT_MAX_DELAY_MIN = 12;

export interface Supervisor {
  /** The daemon's control on one closed plant window (with the window's anomaly rows, as the pipeline passes them). */
  onWindow(plant: PlantWindow, anomalies?: readonly AnomalyRow[]): void;
  /** Setpoints for the PLC: the last one of every loop. */
  setpoints(): LoopSetpoints;
  /** Seeded latency, in plant minutes, of the setpoints of the window just handled. */
  delayMin(): number;
}

interface OperatorMove {
  readonly loop: LoopConfig;
  readonly until: number;
}

/**
 * The daemon's supervisory control (createControl, as src/runtime.ts builds it) with in-memory state,
 * for twin runs in process. Operator moves go through the control's own HMI command path, so the
 * envelope treats them exactly as the daemon would.
 */
export function createSupervisor(config: ControlConfig, regime: Exclude<ControlRegime, 'default'>, seed: number, history?: SetpointHistory): Supervisor {
  const state = new Map<string, string>();
  let now = 0;
  const clock: Clock = { now: () => now, setTimeout: () => ({ clear: () => undefined }), setInterval: () => ({ clear: () => undefined }) };
  const control = createControl({
    config,
    site: 'twin',
    publisher: { publish: () => undefined },
    tables: { insert: () => undefined },
    state: {
      getState: <T>(key: string) => { const v = state.get(key); return v === undefined ? undefined : (JSON.parse(v) as T); },
      setState: (key, value) => void state.set(key, JSON.stringify(value)),
    },
    alarms: { raise: () => undefined, clear: () => undefined },
    logger: silentLogger(),
    clock,
    history,
  });
  const loops = config.loops.filter((l) => l.enabled !== false);
  const current: LoopSetpoints = {};
  const rng = createRng(seed ^ 0x0b5e);
  let move: OperatorMove | undefined;
  let upset: { stage: StageId; until: number } | undefined;
  let lastEnd: number | undefined;
  const latency = createRng(seed ^ 0x1a7e);

  function upsets(ts: number, hours: number): AnomalyRow[] {
    if (upset && ts >= upset.until) upset = undefined;
    if (!upset && loops.length > 0 && rng() < UPSETS_PER_HOUR * hours) {
      const loop = loops[Math.floor(rng() * loops.length)] ?? loops[0]!;
      upset = { stage: loop.stage, until: ts + (UPSET_MIN_HOURS + rng() * (UPSET_MAX_HOURS - UPSET_MIN_HOURS)) * 3_600_000 };
    }
    return upset ? [{ stage: upset.stage, ts, score: 1, threshold: 0, isAnomaly: true, contributors: '[]', model: 'upset' }] : [];
  }

  function operate(ts: number): void {
    if (move && ts >= move.until) {
      control.onCommand({ kind: 'loop_mode', loop: move.loop.id, mode: 'auto', by: 'operator', ts: ts - 1 });
      move = undefined;
    }
    const hours = lastEnd === undefined ? 0 : (ts - lastEnd) / 3_600_000;
    if (move || loops.length === 0 || rng() >= OPERATOR_MOVES_PER_HOUR * hours) return;
    const loop = loops[Math.floor(rng() * loops.length)] ?? loops[0]!;
    const from = current[loop.id as LoopId] ?? loop.fallback;
    const value = Math.min(loop.max, Math.max(loop.min, from + (2 * rng() - 1) * MOVE_MAX_STEPS * loop.maxStep));
    const until = ts + (MOVE_MIN_HOURS + rng() * (MOVE_MAX_HOURS - MOVE_MIN_HOURS)) * 3_600_000;
    // Just before the window close, so that the close itself publishes under the new mode.
    const row = control.onCommand({ kind: 'loop_mode', loop: loop.id, mode: 'manual', value, by: 'operator', ts: ts - 1 });
    if (row) current[row.loop] = row.value;
    move = { loop, until };
  }

  return {
    onWindow(plant, anomalies = []) {
      now = plant.end;
      const hours = lastEnd === undefined ? 0 : (plant.end - lastEnd) / 3_600_000;
      const flagged = regime === 'operated' ? [...anomalies, ...upsets(plant.end, hours)] : anomalies;
      if (regime === 'operated') operate(plant.end);
      lastEnd = plant.end;
      for (const row of control.onWindow(plant, { anomalies: flagged })) current[row.loop] = row.value;
    },
    setpoints: () => ({ ...current }),
    delayMin: () => Math.floor(latency() * (SETPOINT_MAX_DELAY_MIN + 1)),
  };
}

/** Setpoints on their way from the supervisor to the PLC, each with its seeded latency, in order. */
export interface SetpointLine {
  /** After the supervisor handled a window closed at plant minute m. */
  send(m: number): void;
  /** The newest setpoints arrived by minute m, if any arrived since the last call. */
  arrived(m: number): LoopSetpoints | undefined;
}

export function createSetpointLine(supervisor: Supervisor): SetpointLine {
  const inFlight: { at: number; setpoints: LoopSetpoints }[] = [];
  return {
    send(m) {
      inFlight.push({ at: Math.max(m + supervisor.delayMin(), inFlight.at(-1)?.at ?? m), setpoints: supervisor.setpoints() });
    },
    arrived(m) {
      let due: LoopSetpoints | undefined;
      while (inFlight.length > 0 && (inFlight[0]?.at ?? Infinity) <= m) due = inFlight.shift()?.setpoints;
      return due;
    },
  };
}
