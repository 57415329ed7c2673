import type { LoopId, StageId } from './plant.js';
import type { Quality } from './reading.js';

/**
 * Rows of the derived tables, shared by the store (SQLite), the sync (MariaDB) and the HTTP history.
 * Each table has a natural unique key, listed next to it, so re-sending a row never duplicates it.
 */

/** windows: key (stage, windowEnd). */
export interface WindowRow {
  readonly stage: StageId;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** 0..1 share of the stage's signals with good data in the window. */
  readonly quality: number;
  /** JSON object signal -> { mean, last, min, max, slope, count, filled, stale }. */
  readonly features: string;
}

/** indicators: key (stage, name, ts). */
export interface IndicatorRow {
  readonly stage: StageId;
  readonly name: string;
  readonly ts: number;
  readonly value: number;
  readonly unit: string;
}

/** predictions: key (stage, signal, ts, horizonMin). */
export interface PredictionRow {
  readonly stage: StageId;
  readonly signal: string;
  readonly ts: number;
  readonly horizonMin: number;
  readonly value: number;
  readonly unit: string;
  readonly model: string;
  /** The target's window mean at `ts` (what persistence forecasts); null when that window lacked it. */
  readonly persistence?: number | null;
}

/** anomalies: key (stage, ts, model). */
export interface AnomalyRow {
  readonly stage: StageId;
  readonly ts: number;
  /** Null when the window gave no verdict (`verdict` none: none of the detector's signals). */
  readonly score: number | null;
  readonly threshold: number;
  readonly isAnomaly: boolean;
  /**
   * Stage detectors, live rows only (not stored): the model's own flag (its score, or an input beyond its
   * limit), without the stage's sensor checks that `isAnomaly` adds. The lifecycle judges a version by it:
   * a sensor check flags every version of a stage alike.
   */
  readonly modelFlag?: boolean | undefined;
  /** JSON array [{ signal, share }]. */
  readonly contributors: string;
  readonly model: string;
  /**
   * Stage detectors: `scored` (every input), `partial` (scored from the inputs there), `none` (no
   * verdict). Null for sensor-check rows and rows stored before schema version 7.
   */
  readonly verdict?: 'scored' | 'partial' | 'none' | null | undefined;
  /** JSON array [{ input, reason }] of the inputs the window lacked (absent, stale, not_finite); null when none. */
  readonly missing?: string | null | undefined;
}

/** alarm_events: key (alarmId, ts, state). */
export interface AlarmEventRow {
  readonly alarmId: string;
  readonly ts: number;
  readonly state: 'active_unack' | 'active_ack' | 'cleared_unack' | 'cleared' | 'shelved';
  readonly severity: 'low' | 'medium' | 'high' | 'critical';
  readonly stage: StageId;
  readonly signal: string | null;
  readonly message: string;
  readonly by: string | null;
  /** The operator's comment on an ack or a shelve. */
  readonly comment?: string | null | undefined;
  /** Wall time the operator acknowledged (an ack's `ts` is the alarm's event time). */
  readonly ackedAt?: number | null | undefined;
  /** The operator's judgement on an ack: a false alarm or a confirmed one (feeds the detectors). */
  readonly verdict?: 'false_alarm' | 'confirmed' | null | undefined;
}

/** operator_actions: key (ts, action, target, by). Every HMI command, from MQTT or the web HMI. */
export interface OperatorActionRow {
  /** Wall time of the command. */
  readonly ts: number;
  readonly by: string;
  readonly action: 'alarm_ack' | 'alarm_shelve' | 'loop_mode' | 'loop_decision';
  /** Alarm id or loop id. */
  readonly target: string;
  readonly source: 'mqtt' | 'http';
  /** JSON of the command's fields (comment, verdict, mode, value, decision with its recommendation). */
  readonly detail: string;
}

/** setpoints: key (loop, ts). */
export interface SetpointRow {
  readonly loop: LoopId;
  readonly stage: StageId;
  readonly ts: number;
  readonly value: number;
  readonly unit: string;
  readonly mode: 'auto' | 'manual' | 'fallback';
  readonly reason: string;
  readonly model: string | null;
  readonly validUntil: number;
  /** JSON of the inputs the policy used. */
  readonly inputs: string;
}

/** readings: key (stage, signal, ts). */
export interface ReadingRow {
  readonly stage: StageId;
  readonly signal: string;
  readonly ts: number;
  readonly value: number;
  readonly quality: Quality;
}

/**
 * model_events: key (ts, model, event). One row per lifecycle event of a model version: activation,
 * rollback, a retraining trigger, a candidate trained in the background, a gate result, a shadow run
 * started, a candidate promoted or rejected at the end of its shadow run.
 */
export interface ModelEventRow {
  /** Wall time of the event (activations) or plant time (triggers, judged on plant windows). */
  readonly ts: number;
  /** `name@version` the event is about. */
  readonly model: string;
  readonly event: 'activation' | 'rollback' | 'trigger' | 'candidate' | 'gate' | 'shadow' | 'promotion' | 'rejection';
  /** activation/rollback: `cli` or `daemon`; trigger, shadow, promotion, rejection: `daemon`; gate: where it ran. */
  readonly by: string;
  /** The version active before (activation, rollback), else null. */
  readonly previous: string | null;
  /** One line: why (the trigger's reason, the gate's verdict). */
  readonly reason: string;
  /** JSON: the event's figures (the gate's report, the trigger's inputs). */
  readonly detail: string;
}

/**
 * shadow_outputs: key (model, stage, signal, ts, horizonMin). What a candidate in shadow computed on a live
 * window: a prediction (signal = its target, with persistence) or a detector's score (signal `anomaly_score`,
 * horizon 0, with its threshold and flag). Never published, never seen by control.
 */
export interface ShadowOutputRow {
  readonly model: string;
  readonly stage: StageId;
  readonly signal: string;
  readonly ts: number;
  readonly horizonMin: number;
  readonly value: number;
  readonly unit: string;
  readonly persistence: number | null;
  readonly threshold: number | null;
  readonly isAnomaly: boolean;
}

export interface TableRows {
  readings: ReadingRow;
  windows: WindowRow;
  indicators: IndicatorRow;
  predictions: PredictionRow;
  anomalies: AnomalyRow;
  alarm_events: AlarmEventRow;
  setpoints: SetpointRow;
  operator_actions: OperatorActionRow;
  model_events: ModelEventRow;
  shadow_outputs: ShadowOutputRow;
}
export type HistoryTable = keyof TableRows;
export const HISTORY_TABLES: readonly HistoryTable[] = [
  'readings',
  'windows',
  'indicators',
  'predictions',
  'anomalies',
  'alarm_events',
  'setpoints',
  'operator_actions',
  'model_events',
  'shadow_outputs',
];
