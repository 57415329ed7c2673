import type { AlarmCondition, AlarmSink, HmiCommand, PlantWindow, Publisher, StateStore, TableWriter } from '../contract/ports.js';
import type { AlarmEventRow, PredictionRow } from '../contract/rows.js';
import type { AlarmMessage } from '../contract/topics.js';
import type { AlarmsConfig } from '../config/sections/alarms.js';
import type { SignalConfig } from '../config/sections/plant.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { report, settle, type Debounce } from './debounce.js';
import { admit, calm, emptyFlood, type Flood } from './flood.js';
import { reduceAlarm } from './reducer.js';
import { predictionReport, sensorReport, type SourceReport } from './sources.js';
import { isSystemAlarm, type AlarmEvent, type AlarmRecord } from './types.js';
import { maxOf } from '../lib/extent.js';

export interface AlarmsContext {
  readonly config: AlarmsConfig;
  readonly site: string;
  /** The plant's signals (stale and limit alarms). */
  readonly signals: readonly SignalConfig[];
  readonly publisher: Publisher;
  readonly tables: TableWriter;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly clock: Clock;
  /** How often pending delays, shelving expiry and the flood are re-evaluated (wall time). */
  readonly tickMs?: number | undefined;
}

/** Body of GET /api/v1/alarms. */
export interface AlarmList {
  readonly site: string;
  readonly alarms: readonly AlarmMessage[];
  readonly flood: { readonly active: boolean; readonly suppressed: number; readonly since?: number | undefined };
}

export interface Alarms {
  readonly name: 'alarms';
  readonly sink: AlarmSink;
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** HMI acks (comment, verdict) and shelving; loop commands are ignored. */
  onCommand(cmd: HmiCommand): void;
  /** Built-in sources: stale and out-of-limit signals, predicted effluent limit breaches. */
  onWindow(plant: PlantWindow, extras?: { readonly predictions?: readonly PredictionRow[] | undefined }): void;
  /** Re-evaluates delays, shelving and flood at the current time (also run by the timer). */
  tick(): void;
  /** The alarm's condition stands (active, acknowledged or not, or shelved while present). */
  active(id: string): boolean;
  list(): AlarmList;
  /** Every operator verdict kept on an alarm event (live skill of the detectors counts them). */
  onVerdict(listener: (verdict: AlarmVerdict) => void): () => void;
}

/** An operator's verdict on an alarm, as kept on its alarm_events row. */
export interface AlarmVerdict {
  readonly alarmId: string;
  readonly stage: AlarmEventRow['stage'];
  readonly verdict: 'false_alarm' | 'confirmed';
  /** Event time of the row that carries it. */
  readonly ts: number;
  readonly by: string;
}

interface Pending {
  readonly debounce: Debounce;
  readonly condition?: AlarmCondition | undefined;
}

interface Persisted {
  readonly records: readonly AlarmRecord[];
  readonly pending: readonly (Pending & { readonly id: string })[];
  readonly suppressed: readonly AlarmCondition[];
  readonly flood: Flood;
  readonly seen: readonly string[];
}

export const ALARMS_STATE_KEY = 'alarms.state';
export const FLOOD_ALARM_ID = 'flood';

export function toMessage(r: AlarmRecord): AlarmMessage {
  return {
    id: r.id,
    state: r.state,
    severity: r.severity,
    stage: r.stage,
    ...(r.signal !== undefined ? { signal: r.signal } : {}),
    message: r.message,
    raisedAt: r.raisedAt,
    ...(r.clearedAt !== undefined ? { clearedAt: r.clearedAt } : {}),
    ...(r.ackedBy !== undefined ? { ackedBy: r.ackedBy } : {}),
  };
}

/**
 * The alarm module (PRODUCT 4.2): ISA-18.2 lifecycle, on/off delays, shelving, flood control, retained
 * state topics, an AlarmEventRow per transition, state kept in the StateStore across restarts.
 * Delays run in event time; between events it advances with the injected clock, so a replay at high
 * speed behaves like real time and a quiet plant still raises on time.
 */
export function createAlarms(ctx: AlarmsContext): Alarms {
  const log = ctx.logger.child({ component: 'alarms' });
  const cfg = ctx.config;
  const onMs = cfg.onDelaySec * 1000;
  const offMs = cfg.offDelaySec * 1000;
  const floodMs = cfg.floodWindowSec * 1000;
  const records = new Map<string, AlarmRecord>();
  const pending = new Map<string, Pending>();
  const suppressed = new Map<string, AlarmCondition>();
  const seen = new Set<string>();
  let flood: Flood = emptyFlood;
  let lastEventTs: number | undefined;
  let lastEventWall = 0;
  let timer: { clear(): void } | undefined;
  const verdictListeners = new Set<(verdict: AlarmVerdict) => void>();

  /** Reads the persisted states (start: the store is open by then; constructors do no I/O). */
  function restore(): void {
    const restored = ctx.state.getState<Persisted>(ALARMS_STATE_KEY);
    if (!restored || !Array.isArray(restored.records)) return;
    for (const r of restored.records) records.set(r.id, r);
    for (const p of restored.pending ?? []) pending.set(p.id, { debounce: p.debounce, condition: p.condition });
    for (const c of restored.suppressed ?? []) suppressed.set(c.id, c);
    for (const s of restored.seen ?? []) seen.add(s);
    flood = restored.flood ?? emptyFlood;
    const latest = maxOf(restored.records.map((r) => r.updatedAt));
    if (Number.isFinite(latest)) lastEventTs = latest;
    lastEventWall = ctx.clock.now();
  }

  function now(): number {
    return lastEventTs === undefined ? ctx.clock.now() : lastEventTs + Math.max(0, ctx.clock.now() - lastEventWall);
  }
  function observe(ts: number): void {
    if (!Number.isFinite(ts)) return;
    if (lastEventTs === undefined || ts > now()) {
      lastEventTs = ts;
      lastEventWall = ctx.clock.now();
    }
  }
  function save(): void {
    const data: Persisted = {
      records: [...records.values()],
      pending: [...pending.entries()].map(([id, p]) => ({ id, ...p })),
      suppressed: [...suppressed.values()],
      flood,
      seen: [...seen],
    };
    ctx.state.setState(ALARMS_STATE_KEY, data);
  }

  /** What an operator said with an ack or a shelve, kept on the transition's row. */
  type Remark = Pick<AlarmEventRow, 'comment' | 'ackedAt' | 'verdict'>;

  function insertEvent(record: AlarmRecord, ts: number, by: string | null, remark: Remark): void {
    ctx.tables.insert('alarm_events', [
      {
        alarmId: record.id,
        ts,
        state: record.state,
        severity: record.severity,
        stage: record.stage,
        signal: record.signal ?? null,
        message: record.message,
        by,
        comment: remark.comment ?? null,
        ackedAt: remark.ackedAt ?? null,
        verdict: remark.verdict ?? null,
      },
    ]);
    if (remark.verdict && by) for (const listener of verdictListeners) listener({ alarmId: record.id, stage: record.stage, verdict: remark.verdict, ts, by });
  }

  function apply(id: string, event: AlarmEvent, remark: Remark = {}): void {
    const before = records.get(id);
    const { record, changed, by } = reduceAlarm(before, event);
    if (!record) return;
    records.set(id, record);
    if (!changed && event.type === 'ack' && remark.verdict && before) {
      // A verdict given after the ack (the operator learnt more later): its own row in the state the
      // alarm is in, a millisecond after the last one so that its key is new.
      const ts = Math.max(event.ts, before.updatedAt + 1);
      records.set(id, { ...record, updatedAt: ts });
      log.info({ alarmId: id, state: record.state, by: event.by, verdict: remark.verdict, ts }, `alarm ${id} judged ${remark.verdict}`);
      insertEvent(record, ts, event.by, remark);
      return;
    }
    if (!changed) {
      // A standing alarm whose text or severity changed: the retained message follows (no transition row).
      const described = before !== undefined && (before.message !== record.message || before.severity !== record.severity);
      if (described && record.state !== 'shelved') ctx.publisher.publish('alarm', { alarmId: id }, toMessage(record));
      return;
    }
    log.info({ alarmId: id, state: record.state, severity: record.severity, stage: record.stage, ...(by ? { by } : {}), ...(remark.verdict ? { verdict: remark.verdict } : {}), ts: record.updatedAt, message: record.message }, `alarm ${id} ${record.state}`);
    insertEvent(record, record.updatedAt, by, remark);
    ctx.publisher.publish('alarm', { alarmId: id }, toMessage(record));
  }

  const isActive = (id: string): boolean => {
    const r = records.get(id);
    return r !== undefined && (r.state === 'active_unack' || r.state === 'active_ack' || (r.state === 'shelved' && r.conditionActive));
  };

  function goActive(condition: AlarmCondition, ts: number): void {
    if (isSystemAlarm(condition.id) || isActive(condition.id) || records.get(condition.id)?.state === 'shelved') {
      apply(condition.id, { type: 'raise', condition, ts });
      return;
    }
    const admitted = admit(flood, ts, cfg.floodLimit, floodMs);
    flood = admitted.flood;
    if (admitted.allow) {
      apply(condition.id, { type: 'raise', condition, ts });
      return;
    }
    suppressed.set(condition.id, condition);
    const summary: AlarmCondition = {
      id: FLOOD_ALARM_ID,
      severity: 'high',
      stage: condition.stage,
      message: `alarm flood: more than ${cfg.floodLimit} alarms in ${cfg.floodWindowSec} s, new alarms suppressed`,
    };
    if (admitted.started) apply(FLOOD_ALARM_ID, { type: 'raise', condition: summary, ts });
  }

  function goInactive(id: string, ts: number): void {
    if (suppressed.delete(id)) return;
    apply(id, { type: 'clear', ts });
  }

  function settleAll(at: number): void {
    for (const [id, p] of pending) {
      const { debounce, output } = settle(p.debounce, at, onMs, offMs);
      if (output === undefined) continue;
      const since = p.debounce.since ?? at;
      const ts = since + (output === 'raise' ? onMs : offMs);
      if (debounce.raised || debounce.present) pending.set(id, { ...p, debounce });
      else pending.delete(id);
      if (output === 'raise' && p.condition) goActive(p.condition, ts);
      else if (output === 'clear') goInactive(id, ts);
    }
    for (const r of [...records.values()]) {
      if (r.state === 'shelved' && r.shelvedUntil !== undefined && r.shelvedUntil <= at) apply(r.id, { type: 'unshelve', ts: r.shelvedUntil });
    }
    if (flood.active) {
      const calmed = calm(flood, at, cfg.floodLimit, floodMs);
      flood = calmed.flood;
      if (calmed.ended) {
        apply(FLOOD_ALARM_ID, { type: 'clear', ts: at });
        const release = [...suppressed.values()];
        suppressed.clear();
        for (const c of release) goActive(c, at);
      }
    }
  }

  function reportCondition(condition: AlarmCondition | string, present: boolean, ts: number): void {
    const id = typeof condition === 'string' ? condition : condition.id;
    const p = pending.get(id);
    const raised = p?.debounce.raised ?? (isActive(id) || suppressed.has(id));
    if (!p && !present && !raised) return;
    const debounce = report(p?.debounce ?? { raised, present: raised }, present, ts);
    pending.set(id, { debounce, condition: typeof condition === 'string' ? p?.condition : condition });
    // A raised condition whose text changed (e.g. a new value) refreshes the record without a transition.
    if (present && raised && typeof condition !== 'string' && records.has(id)) apply(id, { type: 'raise', condition, ts });
  }

  function guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      log.error({ err: String(error) }, `${what} failed`);
    }
  }

  /** A system alarm (types.ts) takes effect at once, whatever the delays and the flood. */
  function reportSystem(id: string, event: AlarmEvent): void {
    pending.delete(id);
    suppressed.delete(id);
    apply(id, event);
  }

  const sink: AlarmSink = {
    raise(condition, ts) {
      guarded('raise', () => {
        observe(ts);
        if (isSystemAlarm(condition.id)) reportSystem(condition.id, { type: 'raise', condition, ts });
        else reportCondition(condition, true, ts);
        settleAll(now());
        save();
      });
    },
    clear(id, ts, message) {
      guarded('clear', () => {
        observe(ts);
        if (isSystemAlarm(id)) reportSystem(id, { type: 'clear', ts, message });
        else reportCondition(id, false, ts);
        settleAll(now());
        save();
      });
    },
  };

  function applyReport(r: SourceReport, ts: number): void {
    for (const c of r.present) reportCondition(c, true, ts);
    for (const id of r.absent) reportCondition(id, false, ts);
  }

  function tick(): void {
    guarded('tick', () => {
      settleAll(now());
      save();
    });
  }

  return {
    name: 'alarms',
    sink,
    start() {
      if (!timer) {
        guarded('restore', restore);
        // the broker may have lost its retained messages (the embedded one keeps them in memory)
        for (const [id, record] of records) ctx.publisher.publish('alarm', { alarmId: id }, toMessage(record));
      }
      timer ??= ctx.clock.setInterval(tick, ctx.tickMs ?? 1000);
      return Promise.resolve();
    },
    stop() {
      timer?.clear();
      timer = undefined;
      guarded('save', save);
      return Promise.resolve();
    },
    tick,
    active: isActive,
    onCommand(cmd) {
      if (cmd.kind !== 'alarm_ack' && cmd.kind !== 'alarm_shelve') return;
      guarded(cmd.kind, () => {
        if (!records.has(cmd.alarmId)) {
          log.warn({ alarmId: cmd.alarmId }, `${cmd.kind} for an unknown alarm`);
          return;
        }
        const at = now();
        if (cmd.kind === 'alarm_ack') apply(cmd.alarmId, { type: 'ack', by: cmd.by, ts: at }, { comment: cmd.comment, ackedAt: cmd.ts, verdict: cmd.verdict });
        else {
          const minutes = Math.min(Math.max(cmd.minutes, 0), cfg.maxShelveMinutes);
          apply(cmd.alarmId, { type: 'shelve', by: cmd.by, until: at + minutes * 60_000, ts: at }, { comment: cmd.comment });
        }
        save();
      });
    },
    onWindow(plant, extras) {
      guarded('window', () => {
        const ts = plant.end;
        observe(ts);
        const sensors = sensorReport(plant, ctx.signals, cfg.limits, cfg.deadbandFraction, seen, isActive);
        for (const s of sensors.seen) seen.add(s);
        applyReport(sensors, ts);
        if (extras?.predictions) applyReport(predictionReport(extras.predictions, cfg.effluentLimits, isActive), ts);
        settleAll(now());
        save();
      });
    },
    onVerdict(listener) {
      verdictListeners.add(listener);
      return () => verdictListeners.delete(listener);
    },
    list() {
      const alarms = [...records.values()].sort((a, b) => b.raisedAt - a.raisedAt).map(toMessage);
      return { site: ctx.site, alarms, flood: { active: flood.active, suppressed: flood.suppressed, since: flood.since } };
    },
  };
}
