import type { StageId } from '../contract/plant.js';
import type { AlarmCondition } from '../contract/ports.js';

export type AlarmState = 'active_unack' | 'active_ack' | 'cleared_unack' | 'cleared' | 'shelved';
export type Severity = AlarmCondition['severity'];

/** One alarm's lifecycle record (ISA-18.2), persisted in the StateStore. */
export interface AlarmRecord {
  readonly id: string;
  readonly severity: Severity;
  readonly stage: StageId;
  readonly signal?: string | undefined;
  readonly message: string;
  readonly state: AlarmState;
  /** Whether the condition is present now (tracked while shelved too). */
  readonly conditionActive: boolean;
  readonly raisedAt: number;
  readonly clearedAt?: number | undefined;
  readonly ackedBy?: string | undefined;
  readonly shelvedUntil?: number | undefined;
  readonly shelvedBy?: string | undefined;
  /** Event time of the last transition. */
  readonly updatedAt: number;
}

export type AlarmEvent =
  | { readonly type: 'raise'; readonly condition: AlarmCondition; readonly ts: number }
  /** `message`: the text the cleared alarm carries from now on (a system alarm saying what ended it). */
  | { readonly type: 'clear'; readonly ts: number; readonly message?: string | undefined }
  | { readonly type: 'ack'; readonly by: string; readonly ts: number }
  | { readonly type: 'shelve'; readonly by: string; readonly until: number; readonly ts: number }
  | { readonly type: 'unshelve'; readonly ts: number };

/** A state change to record (AlarmEventRow) and publish. */
export interface AlarmTransition {
  readonly record: AlarmRecord;
  readonly from: AlarmState | 'none';
  readonly by: string | null;
}

/**
 * Alarms about the daemon's own integrity rather than the process: storage (disk budget), central sync
 * lag, model failures, control fallbacks. They go active and clear at once (no on/off delay, which is for
 * noisy process signals), the flood logic neither counts nor suppresses them, and their message follows
 * every report.
 */
export const SYSTEM_ALARM_PREFIXES = ['storage.', 'sync.', 'model.', 'fallback.'] as const;

export const isSystemAlarm = (id: string): boolean => SYSTEM_ALARM_PREFIXES.some((prefix) => id.startsWith(prefix));
