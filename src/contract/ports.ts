import type { LoopId, StageId } from './plant.js';
import type { DeadLetter, Reading } from './reading.js';
import type { HistoryTable, TableRows } from './rows.js';
import type { OutKind, OutTopics } from './topics.js';

/**
 * The seams between the stages of the flow (PRODUCT section 3). Each area implements its side; the
 * runtime (src/runtime.ts) wires them. Data flows one way: ingest -> store -> windows -> models ->
 * control/alarms -> publish.
 */

/**
 * Durable intake. `appendReadings` resolves only after the group commit holding the rows (readings,
 * and the dead letters of the same messages, whose acks wait for it too), with the readings it stored:
 * a reading whose key (stage, signal, ts) was taken already, an exact resend or a conflicting
 * duplicate, is left out (only stored readings go on to the windows).
 */
export interface ReadingSink {
  appendReadings(readings: readonly Reading[], deadLetters?: readonly DeadLetter[]): Promise<readonly Reading[]>;
  appendDeadLetter(deadLetter: DeadLetter): void;
}

/** Idempotent writes of derived rows (natural keys: re-writing a row changes nothing). */
export interface TableWriter {
  insert<T extends Exclude<HistoryTable, 'readings'>>(table: T, rows: readonly TableRows[T][]): void;
}

/** Small durable key/value state: loop modes, alarm states, model registry, sync cursors. */
export interface StateStore {
  getState<T>(key: string): T | undefined;
  setState(key: string, value: unknown): void;
}

/** Typed MQTT output (topic map in contract/topics.ts). Never throws; failures are logged and counted. */
export interface Publisher {
  publish<K extends OutKind>(kind: K, params: OutTopics[K]['params'], payload: OutTopics[K]['payload']): void;
}

/** The setpoints a loop had in effect over a span of event time (published by control, read by the models). */
export interface SetpointView {
  /** Lowest and highest setpoint in effect at some time in [from, to]; undefined when none was valid all along. */
  range(loop: LoopId, from: number, to: number): { readonly min: number; readonly max: number } | undefined;
}

/** HMI commands, decoded and validated by ingest. */
export type HmiCommand =
  | {
      readonly kind: 'alarm_ack';
      readonly alarmId: string;
      readonly by: string;
      readonly comment?: string | undefined;
      readonly verdict?: 'false_alarm' | 'confirmed' | undefined;
      readonly ts: number;
    }
  | { readonly kind: 'alarm_shelve'; readonly alarmId: string; readonly by: string; readonly minutes: number; readonly comment?: string | undefined; readonly ts: number }
  | { readonly kind: 'loop_mode'; readonly loop: LoopId; readonly mode: 'auto' | 'manual' | 'advisory'; readonly value?: number | undefined; readonly by: string; readonly ts: number }
  /** An operator accepts or rejects the pending recommendation of a loop in advisory mode. */
  | { readonly kind: 'loop_decision'; readonly loop: LoopId; readonly accept: boolean; readonly by: string; readonly comment?: string | undefined; readonly ts: number };

/** Features of one signal over one window. */
export interface SignalFeatures {
  readonly mean: number;
  readonly last: number;
  readonly min: number;
  readonly max: number;
  /** Per hour of event time. */
  readonly slope: number;
  readonly count: number;
  /** Readings filled in across short gaps. */
  readonly filled: number;
  /** No reading for staleAfterPeriods sampling periods. */
  readonly stale: boolean;
  /** A gap longer than maxGapPeriods inside the window. */
  readonly gappy: boolean;
}

/** One closed window of one stage (event time). Signals without any data are absent. */
export interface StageWindow {
  readonly stage: StageId;
  readonly start: number;
  readonly end: number;
  /** Share of the stage's configured signals with fresh data, 0..1. */
  readonly quality: number;
  readonly signals: Readonly<Record<string, SignalFeatures>>;
}

/** All stages' windows that closed at the same window end (what models and control consume). */
export interface PlantWindow {
  readonly start: number;
  readonly end: number;
  readonly stages: Readonly<Partial<Record<StageId, StageWindow>>>;
}

/** Alarm sources raise and clear conditions; the alarm module owns the lifecycle. */
export interface AlarmCondition {
  /** Stable id, also the MQTT topic level: e.g. `anomaly.aerobic`, `stale.aerobic.do`, `fallback.do`. */
  readonly id: string;
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  readonly stage: StageId;
  readonly signal?: string | undefined;
  readonly message: string;
}
export interface AlarmSink {
  raise(condition: AlarmCondition, ts: number): void;
  /** `message` replaces the alarm's text as it clears (system alarms; ignored for process alarms). */
  clear(id: string, ts: number, message?: string): void;
}
