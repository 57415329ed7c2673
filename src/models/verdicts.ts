import type { EdgeConfig } from '../config/schema.js';
import type { JudgedAlarm } from './store-data.js';

/**
 * The operators' verdicts as labels for a stage detector. An alarm episode runs from its raise to its
 * clear; the windows "around" it are those ending from one on-delay plus one slide before the raise (the
 * flagged window that started the condition) up to the clear. A false alarm is one of the stage's own
 * detector alarm (`anomaly.<stage>`) marked `false_alarm`: its windows are normal operation. A confirmed
 * alarm is any plant alarm on the stage (not a `model.` alarm) marked `confirmed`: its windows are an event.
 */

/** How far before its raise an alarm's condition began (the alarm module's on-delay, one window slide). */
export function alarmLeadMs(config: { readonly windows: Pick<EdgeConfig['windows'], 'slideSec'>; readonly alarms?: Pick<EdgeConfig['alarms'], 'onDelaySec'> | undefined }): number {
  return ((config.alarms?.onDelaySec ?? 60) + config.windows.slideSec) * 1000;
}

/** Window ends [from, to] of an episode; an alarm still open ends at `lastEnd`. */
export function episodeWindows(alarm: JudgedAlarm, leadMs: number, lastEnd = Number.MAX_SAFE_INTEGER): { from: number; to: number } {
  return { from: alarm.start - leadMs, to: Math.min(alarm.end, lastEnd) };
}

export interface StageVerdicts {
  /** `anomaly.<stage>` episodes marked false_alarm. */
  readonly falseAlarms: readonly JudgedAlarm[];
  /** Plant alarms of the stage marked confirmed. */
  readonly confirmed: readonly JudgedAlarm[];
}

export function stageVerdicts(alarms: readonly JudgedAlarm[], stage: string): StageVerdicts {
  return {
    falseAlarms: alarms.filter((a) => a.verdict === 'false_alarm' && a.alarmId === `anomaly.${stage}`),
    confirmed: alarms.filter((a) => a.verdict === 'confirmed' && a.stage === stage && !a.alarmId.startsWith('model.')),
  };
}

/** The episode of `alarms` a window ending at `end` lies in, if any. */
export function episodeOf(end: number, alarms: readonly JudgedAlarm[], leadMs: number): JudgedAlarm | undefined {
  return alarms.find((a) => {
    const { from, to } = episodeWindows(a, leadMs);
    return end >= from && end < to;
  });
}

/** What training took from the verdicts (the manifest's `training.verdicts`). */
export interface VerdictsUsed {
  /** False-alarm episodes with at least one training window, and those windows. */
  readonly falseAlarms: number;
  readonly falseAlarmWindows: number;
  /** Times each false-alarm window is repeated in the network's training rows. */
  readonly falseAlarmWeight: number;
  /** Confirmed episodes with windows in the training or held-out block, and the windows left out of normal data. */
  readonly confirmed: number;
  readonly confirmedWindows: number;
}

/** Share of the network's training rows the false-alarm windows make up at least (up to MAX_WEIGHT repeats). */
export const FALSE_ALARM_SHARE = 0.1;
export const MAX_FALSE_ALARM_WEIGHT = 20;

/** Repeats of each false-alarm window so they weigh FALSE_ALARM_SHARE of the network rows (1 to MAX_FALSE_ALARM_WEIGHT). */
export function falseAlarmWeight(falseRows: number, otherRows: number): number {
  if (falseRows === 0) return 0;
  const wanted = (FALSE_ALARM_SHARE * otherRows) / ((1 - FALSE_ALARM_SHARE) * falseRows);
  return Math.min(MAX_FALSE_ALARM_WEIGHT, Math.max(1, Math.ceil(wanted)));
}
