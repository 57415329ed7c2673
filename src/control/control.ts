import type { LoopId } from '../contract/plant.js';
import type { AlarmSink, HmiCommand, PlantWindow, Publisher, StateStore, TableWriter } from '../contract/ports.js';
import type { AnomalyRow, IndicatorRow, PredictionRow, SetpointRow } from '../contract/rows.js';
import type { LoopConfig } from '../config/sections/control.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { applyEnvelope, type Proposal } from './envelope.js';
import { freshFeature } from '../indicators/define.js';
import { loadLoopMemory, saveLoopMemory, type LoopMemory, type LoopModeName, type Recommendation } from './memory.js';
import type { RecommendationMessage, WhatIfMessage } from '../contract/topics.js';
import { whatIf } from './whatif.js';
import { POLICIES } from './policies/index.js';
import { checkInputs } from './inputs.js';
import type { SetpointHistory } from './setpoint-history.js';

export interface ControlContext {
  readonly config: {
    readonly enabled?: boolean | undefined;
    readonly validForSec: number;
    readonly loops: readonly LoopConfig[];
  };
  readonly site: string;
  readonly publisher: Publisher;
  readonly tables: TableWriter;
  readonly state: StateStore;
  readonly alarms: AlarmSink;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where every published setpoint is also kept, for the models' loop-deviation check. */
  readonly history?: SetpointHistory | undefined;
}

/** What arrives with a window besides the readings' features. */
export interface ControlExtras {
  readonly indicators?: readonly IndicatorRow[] | undefined;
  readonly predictions?: readonly PredictionRow[] | undefined;
  readonly anomalies?: readonly AnomalyRow[] | undefined;
  /** What-if models per loop: predicted outlet under a candidate setpoint. */
  readonly whatIf?: Partial<Record<LoopId, (candidate: number) => number | undefined>> | undefined;
}

export interface Control {
  readonly name: 'control';
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Computes, envelopes, stores and publishes every enabled loop's setpoint for one window close. */
  onWindow(plant: PlantWindow, extras?: ControlExtras): readonly SetpointRow[];
  /** HMI loop mode commands and decisions on recommendations; other commands are ignored. */
  onCommand(cmd: HmiCommand): SetpointRow | undefined;
  /** Last published setpoint, mode and pending recommendation per loop. */
  snapshot(): Record<string, LoopSnapshot>;
  /** The loop's outlet over the next hours under a candidate setpoint, from the latest window. */
  whatIf(loop: LoopId, candidate: number): WhatIfMessage | undefined;
}

export interface LoopSnapshot {
  readonly mode: LoopModeName;
  readonly last?: LoopMemory['last'];
  readonly pending?: Recommendation | undefined;
  readonly modeBy?: string | undefined;
}

/** Inputs as published: non-finite numbers become null (NaN is never published). */
const publishable = (inputs: Readonly<Record<string, number>>): Record<string, number | null> =>
  Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Number.isFinite(v) ? v : null]));

/** Integral terms never integrate over more than this gap (a restart after hours must not kick). */
const MAX_DT_HOURS = 1;

export function createControl(ctx: ControlContext): Control {
  const log = ctx.logger.child({ component: 'control' });
  const validForMs = ctx.config.validForSec * 1000;
  const loops = ctx.config.loops.filter((l) => l.enabled !== false);
  let running = false;
  /** The latest window and its predictions: the what-if's starting point (memory only). */
  let latest: { plant: PlantWindow; predictions: readonly PredictionRow[] } | undefined;

  function publishSetpoint(loop: LoopConfig, sp: Pick<SetpointRow, 'value' | 'ts' | 'mode' | 'reason' | 'model' | 'validUntil'>): void {
    ctx.history?.record(loop.id, sp.value, sp.ts, sp.validUntil);
    ctx.publisher.publish(
      'setpoint',
      { stage: loop.stage, loop: loop.id },
      { value: sp.value, unit: loop.unit, ts: sp.ts, mode: sp.mode, reason: sp.reason, ...(sp.model ? { model: sp.model } : {}), validUntil: sp.validUntil },
    );
  }

  /**
   * Where the step limit counts from: the daemon's last setpoint while it is in effect; otherwise (first
   * start, or it expired and the PLC went back to its local setpoint) the loop's measured feedback, so the
   * first setpoint moves the plant no more than one step (bumpless start).
   */
  function stepOrigin(loop: LoopConfig, memory: LoopMemory, ts: number, plant: PlantWindow | undefined): number | undefined {
    const last = memory.last;
    if (last && ts <= last.ts + validForMs) return last.value;
    const measured = plant && loop.feedback ? freshFeature(plant, loop.feedback, 'last') : undefined;
    return measured ?? last?.value;
  }

  function emit(loop: LoopConfig, memory: LoopMemory, ts: number, proposal: Proposal, inputs: Record<string, number>, model: string | undefined, plant?: PlantWindow): { row: SetpointRow; memory: LoopMemory } {
    const out = applyEnvelope(loop, stepOrigin(loop, memory, ts, plant), proposal);
    const row: SetpointRow = {
      loop: loop.id,
      stage: loop.stage,
      ts,
      value: out.value,
      unit: loop.unit,
      mode: out.mode,
      reason: out.reason,
      model: out.mode === 'auto' ? (model ?? null) : null,
      validUntil: ts + validForMs,
      inputs: JSON.stringify(inputs, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
    };
    ctx.tables.insert('setpoints', [row]);
    publishSetpoint(loop, row);
    const fallbackActive = fallbackAlarm(loop, memory, out, ts);
    return { row, memory: { ...memory, last: { value: out.value, ts, mode: out.mode }, fallbackActive } };
  }

  function fallbackAlarm(loop: LoopConfig, memory: LoopMemory, out: { mode: string; value: number; reason: string }, ts: number): boolean {
    const active = out.mode === 'fallback';
    if (active && !memory.fallbackActive) log.info({ loop: loop.id, value: out.value, reason: out.reason, ts }, 'loop on fallback');
    else if (!active && memory.fallbackActive) log.info({ loop: loop.id, mode: out.mode, ts }, 'loop back from fallback');
    if (active) {
      ctx.alarms.raise({ id: `fallback.${loop.id}`, severity: 'medium', stage: loop.stage, message: `loop ${loop.id} on fallback setpoint ${out.value} ${loop.unit}: ${out.reason}` }, ts);
    } else if (memory.fallbackActive) {
      ctx.alarms.clear(`fallback.${loop.id}`, ts);
    }
    return active;
  }

  /** The setpoint a candidate is compared with: the daemon's in effect, else the measured feedback, else the fallback. */
  function currentSetpoint(loop: LoopConfig, memory: LoopMemory, ts: number): number {
    return stepOrigin(loop, memory, ts, latest?.plant) ?? loop.fallback;
  }

  function loopWhatIf(loop: LoopConfig, memory: LoopMemory, candidate: number): WhatIfMessage | undefined {
    if (!latest) return undefined;
    return whatIf({ loop, plant: latest.plant, predictions: latest.predictions, current: currentSetpoint(loop, memory, latest.plant.end), candidate });
  }

  function publishRecommendation(loop: LoopConfig, memory: LoopMemory, rec: Recommendation, decision: Pick<RecommendationMessage, 'status' | 'decidedBy' | 'decidedAt' | 'comment'>): void {
    const outlook = loopWhatIf(loop, memory, rec.value);
    ctx.publisher.publish(
      'recommendation',
      { stage: loop.stage, loop: loop.id },
      {
        value: rec.value,
        unit: loop.unit,
        ts: rec.ts,
        mode: rec.mode,
        reason: rec.reason,
        ...(rec.model ? { model: rec.model } : {}),
        inputs: publishable(rec.inputs),
        ...(outlook ? { whatIf: outlook } : {}),
        ...Object.fromEntries(Object.entries(decision).filter(([, v]) => v !== undefined)),
        status: decision.status,
      },
    );
  }

  /** Advisory mode: the setpoint the loop would publish, enveloped as in auto, offered to the operator. */
  function recommend(loop: LoopConfig, memory: LoopMemory, ts: number, proposal: Proposal, inputs: Record<string, number>, model: string | undefined, plant: PlantWindow): LoopMemory {
    const out = applyEnvelope(loop, stepOrigin(loop, memory, ts, plant), proposal);
    const rec: Recommendation = { value: out.value, ts, mode: out.mode === 'fallback' ? 'fallback' : 'auto', reason: out.reason, model, inputs };
    const fallbackActive = fallbackAlarm(loop, memory, out, ts);
    const next = { ...memory, pending: rec, fallbackActive };
    publishRecommendation(loop, next, rec, { status: 'pending' });
    return next;
  }

  /** An operator's decision: accepted, the recommendation is published as the setpoint (envelope and step limit again). */
  function decide(loop: LoopConfig, cmd: Extract<HmiCommand, { kind: 'loop_decision' }>): SetpointRow | undefined {
    const memory = forgetFuture(loop, loadLoopMemory(ctx.state, loop.id));
    const rec = memory.pending;
    if (memory.mode !== 'advisory' || !rec) {
      log.warn({ loop: loop.id, by: cmd.by }, 'decision without a pending recommendation');
      return undefined;
    }
    const decided = { decidedBy: cmd.by, decidedAt: cmd.ts, comment: cmd.comment };
    const cleared: LoopMemory = { ...memory, pending: undefined };
    if (!cmd.accept) {
      publishRecommendation(loop, memory, rec, { status: 'rejected', ...decided });
      saveLoopMemory(ctx.state, loop.id, cleared);
      return undefined;
    }
    const ts = Math.max(Number.isFinite(cmd.ts) ? cmd.ts : ctx.clock.now(), (memory.last?.ts ?? -Infinity) + 1);
    const proposal: Proposal = rec.mode === 'fallback' ? { mode: 'fallback', reason: `accepted by ${cmd.by}: ${rec.reason}` } : { mode: 'auto', value: rec.value, reason: `accepted by ${cmd.by}: ${rec.reason}` };
    const done = emit(loop, cleared, ts, proposal, { ...rec.inputs, recommended: rec.value, recommendedAt: rec.ts }, rec.model, latest?.plant);
    publishRecommendation(loop, memory, rec, { status: 'accepted', ...decided });
    saveLoopMemory(ctx.state, loop.id, done.memory);
    return done.row;
  }

  function withdraw(loop: LoopConfig, memory: LoopMemory, by: string, ts: number): void {
    if (memory.pending) publishRecommendation(loop, memory, memory.pending, { status: 'withdrawn', decidedBy: by, decidedAt: ts });
  }

  function republishLast(loop: LoopConfig): void {
    const last = loadLoopMemory(ctx.state, loop.id).last;
    if (last) publishSetpoint(loop, { ...last, reason: 'last setpoint before the restart, republished', model: null, validUntil: last.ts + validForMs });
  }

  /**
   * A loop's memory stamped ahead of the clock by more than a setpoint's validity (a reading or a command
   * from a clock set forward, a previous run on another clock) would make every window look old and
   * silence the loop until event time caught up: it is dropped, said once at info. A window older than an
   * HMI command's setpoint (a command on the wall clock, a replay behind it) is processed all the same.
   */
  function forgetFuture(loop: LoopConfig, memory: LoopMemory): LoopMemory {
    const limit = ctx.clock.now() + validForMs;
    const windowAhead = memory.lastWindowEnd !== undefined && memory.lastWindowEnd > limit;
    const lastAhead = memory.last !== undefined && memory.last.ts > limit;
    if (!windowAhead && !lastAhead) return memory;
    log.info({ loop: loop.id, lastWindowEnd: memory.lastWindowEnd, lastSetpointTs: memory.last?.ts, now: ctx.clock.now() }, 'loop memory ahead of the clock dropped; control continues from the next window');
    const next: LoopMemory = { ...memory, ...(windowAhead ? { lastWindowEnd: undefined, lastPolicyTs: undefined } : {}), ...(lastAhead ? { last: undefined } : {}) };
    saveLoopMemory(ctx.state, loop.id, next);
    return next;
  }

  function runLoop(loop: LoopConfig, plant: PlantWindow, extras: ControlExtras): SetpointRow | undefined {
    let memory = loadLoopMemory(ctx.state, loop.id);
    if (!Number.isFinite(plant.end)) return undefined;
    memory = forgetFuture(loop, memory);
    if (memory.lastWindowEnd !== undefined && plant.end <= memory.lastWindowEnd) {
      log.debug({ loop: loop.id, ts: plant.end }, 'window not newer than the last one, ignored');
      return undefined;
    }
    // A window older than the loop's last setpoint (an HMI command stamped a little later) is answered
    // all the same, stamped just after that setpoint so that a loop's setpoints never go back in time.
    const ts = memory.last && plant.end <= memory.last.ts ? memory.last.ts + 1 : plant.end;
    memory = { ...memory, lastWindowEnd: plant.end };
    if (memory.mode === 'manual') {
      const value = memory.manualValue ?? memory.last?.value ?? loop.fallback;
      const done = emit(loop, memory, ts, { mode: 'manual', value, reason: `manual by ${memory.modeBy ?? 'hmi'}` }, { manualValue: value }, undefined);
      saveLoopMemory(ctx.state, loop.id, done.memory);
      return done.row;
    }
    const policy = POLICIES[loop.id];
    const problem = checkInputs(plant, policy.requires, loop, extras.anomalies ?? []);
    if (problem && memory.mode === 'advisory') {
      saveLoopMemory(ctx.state, loop.id, recommend(loop, memory, ts, { mode: 'fallback', reason: problem }, {}, undefined, plant));
      return undefined;
    }
    if (problem) {
      const done = emit(loop, memory, ts, { mode: 'fallback', reason: problem }, {}, undefined, plant);
      saveLoopMemory(ctx.state, loop.id, done.memory);
      return done.row;
    }
    const dtHours = memory.lastPolicyTs === undefined ? 0 : Math.min(Math.max((ts - memory.lastPolicyTs) / 3_600_000, 0), MAX_DT_HOURS);
    let proposal: Proposal;
    let inputs: Record<string, number> = {};
    let model: string | undefined;
    let policyState = memory.policyState;
    try {
      const result = policy.propose({
        plant,
        params: loop.params,
        bounds: { min: loop.min, max: loop.max },
        indicators: extras.indicators ?? [],
        predictions: extras.predictions ?? [],
        state: memory.policyState,
        previous: memory.last?.value,
        dtHours,
        predict: extras.whatIf?.[loop.id],
      });
      proposal = { mode: 'auto', value: result.value, reason: result.reason };
      inputs = { ...result.inputs };
      model = result.model;
      policyState = result.state;
    } catch (error) {
      log.error({ loop: loop.id, err: String(error) }, 'policy failed');
      proposal = { mode: 'fallback', reason: `policy failed: ${String(error)}` };
    }
    if (memory.mode === 'advisory') {
      saveLoopMemory(ctx.state, loop.id, recommend(loop, { ...memory, policyState, lastPolicyTs: ts }, ts, proposal, inputs, model, plant));
      return undefined;
    }
    const done = emit(loop, { ...memory, policyState, lastPolicyTs: ts }, ts, proposal, inputs, model, plant);
    saveLoopMemory(ctx.state, loop.id, done.memory);
    return done.row;
  }

  return {
    name: 'control',
    start() {
      running = true;
      // A broker without persistence (the embedded one after a restart) lost the retained setpoints: the
      // HMI sees each loop's last setpoint again, with its original time and validity, until the next window.
      for (const loop of loops) {
        try {
          republishLast(loop);
        } catch (error) {
          log.warn({ loop: loop.id, err: String(error) }, 'last setpoint not republished');
        }
      }
      return Promise.resolve();
    },
    stop() {
      running = false;
      return Promise.resolve();
    },
    onWindow(plant, extras = {}) {
      if (ctx.config.enabled === false) return [];
      if (!running) log.debug('window before start');
      latest = { plant, predictions: extras.predictions ?? [] };
      const rows: SetpointRow[] = [];
      for (const loop of loops) {
        try {
          const row = runLoop(loop, plant, extras);
          if (row) rows.push(row);
        } catch (error) {
          log.error({ loop: loop.id, err: String(error) }, 'setpoint not produced');
        }
      }
      return rows;
    },
    onCommand(cmd) {
      if (cmd.kind !== 'loop_mode' && cmd.kind !== 'loop_decision') return undefined;
      const loop = loops.find((l) => l.id === cmd.loop);
      if (!loop) {
        log.warn({ loop: cmd.loop }, 'mode change for a loop that is not configured');
        return undefined;
      }
      try {
        if (cmd.kind === 'loop_decision') return decide(loop, cmd);
        const memory = forgetFuture(loop, loadLoopMemory(ctx.state, loop.id));
        const ts = Math.max(Number.isFinite(cmd.ts) ? cmd.ts : ctx.clock.now(), (memory.last?.ts ?? -Infinity) + 1);
        if (memory.mode !== cmd.mode) log.info({ loop: loop.id, mode: cmd.mode, from: memory.mode, by: cmd.by, ...(cmd.value !== undefined ? { value: cmd.value } : {}) }, 'loop mode changed');
        if (cmd.mode === 'advisory') {
          // The setpoint in effect stays until its validUntil; from the next window the loop only recommends.
          saveLoopMemory(ctx.state, loop.id, { ...memory, mode: 'advisory', manualValue: undefined, modeBy: cmd.by });
          return undefined;
        }
        withdraw(loop, memory, cmd.by, cmd.ts);
        if (cmd.mode === 'manual') {
          const value = cmd.value !== undefined && Number.isFinite(cmd.value) ? cmd.value : (memory.last?.value ?? loop.fallback);
          const next: LoopMemory = { ...memory, mode: 'manual', manualValue: value, modeBy: cmd.by, pending: undefined };
          const done = emit(loop, next, ts, { mode: 'manual', value, reason: `manual by ${cmd.by}` }, { manualValue: value }, undefined);
          saveLoopMemory(ctx.state, loop.id, { ...done.memory, manualValue: done.row.value });
          return done.row;
        }
        const next: LoopMemory = { ...memory, mode: 'auto', manualValue: undefined, modeBy: cmd.by, pending: undefined };
        const hold = memory.last?.value ?? loop.fallback;
        const done = emit(loop, next, ts, { mode: 'auto', value: hold, reason: `auto by ${cmd.by}; holding until the next window` }, {}, undefined);
        saveLoopMemory(ctx.state, loop.id, done.memory);
        return done.row;
      } catch (error) {
        log.error({ loop: cmd.loop, err: String(error) }, 'mode change failed');
        return undefined;
      }
    },
    snapshot() {
      const out: Record<string, LoopSnapshot> = {};
      for (const loop of loops) {
        const m = loadLoopMemory(ctx.state, loop.id);
        out[loop.id] = { mode: m.mode, last: m.last, pending: m.pending, modeBy: m.modeBy };
      }
      return out;
    },
    whatIf(loopId, candidate) {
      const loop = loops.find((l) => l.id === loopId);
      if (!loop || !Number.isFinite(candidate)) return undefined;
      return loopWhatIf(loop, loadLoopMemory(ctx.state, loop.id), candidate);
    },
  };
}
