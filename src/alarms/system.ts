import { isStage, type StageId } from '../contract/plant.js';
import type { AlarmCondition } from '../contract/ports.js';

/** A model's stage, else the effluent (the plant's outcome) for alarms of the models. */
const stageOr = (stage: string): StageId => (isStage(stage) ? stage : 'effluent');

/** What the store reports of one shedding pass (structurally the store's SheddingInfo). */
export interface ShedReport {
  readonly ts: number;
  readonly maxBytes: number;
  readonly usedBytesBefore: number;
  readonly usedBytesAfter: number;
  readonly exhausted: boolean;
  readonly shed: readonly { readonly table: string; readonly synced: boolean; readonly rows: number }[];
}

/** Rows shed since the daemon started, for the alarm's text. */
export interface ShedTotals {
  readonly since: number;
  readonly rows: number;
}

export const SHEDDING_ALARM_ID = 'storage.shedding';

const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MiB`;

/** What a budget check reports once the data are back under the budget (the store's UnderBudgetInfo). */
export interface UnderBudgetReport {
  readonly ts: number;
  readonly maxBytes: number;
  readonly dataBudgetBytes: number;
  readonly usedBytes: number;
}

/** The text `storage.shedding` clears with: the data back under the budget, and what went while it stood. */
export function sheddingClearedMessage(info: UnderBudgetReport, totals: ShedTotals | undefined): string {
  const since = totals ? `${totals.rows} rows shed since ${new Date(totals.since).toISOString()}` : 'rows shed before the last start are in shed_log';
  return `disk budget ${mib(info.maxBytes)}: data back under it at ${new Date(info.ts).toISOString()}, ${mib(info.usedBytes)} of ${mib(info.dataBudgetBytes)} for data, no longer shedding; ${since}`;
}

/**
 * `storage.shedding` for one shedding pass: its text says what this pass removed and what went since the
 * first, so the retained alarm stays current pass after pass; critical once nothing is left to shed.
 */
export function sheddingCondition(info: ShedReport, totals: ShedTotals): AlarmCondition {
  const rows = info.shed.reduce((n, s) => n + s.rows, 0);
  const what = info.shed.map((s) => `${s.rows} ${s.table}${s.table === 'deadletters' ? '' : s.synced ? ' synced' : ' unsynced'}`).join(', ');
  const tail = info.exhausted ? '; still over budget with nothing left that may be shed' : '';
  return {
    id: SHEDDING_ALARM_ID,
    severity: info.exhausted ? 'critical' : 'high',
    stage: 'effluent',
    message:
      `disk budget ${mib(info.maxBytes)} reached: ${new Date(info.ts).toISOString()} shed ${rows} rows (${what || 'none'}), ` +
      `data ${mib(info.usedBytesBefore)} -> ${mib(info.usedBytesAfter)}; ${totals.rows} rows shed since ${new Date(totals.since).toISOString()}${tail}`,
  };
}

/** What the gate alarm needs of the gate's report (src/lifecycle/gate.ts). */
export interface GateVerdict {
  readonly candidate: string;
  readonly active: string | null;
  readonly reasons: readonly string[];
}

/** `model.gate.<name>`: a candidate trained in the background failed the quality gate; the active version stays. */
export function gateFailedCondition(name: string, stage: string, report: GateVerdict): AlarmCondition {
  return {
    id: `model.gate.${name}`,
    severity: 'low',
    stage: stageOr(stage),
    message: `${report.candidate} failed the quality gate${report.active ? ` against ${report.active}` : ''}, ${report.active ?? 'the active version'} stays: ${report.reasons.join('; ')}`,
  };
}

/** `model.retrain.<name>`: retraining in the background made no candidate (the child failed or the data fed no model). */
export function retrainFailedCondition(name: string, stage: string, why: string): AlarmCondition {
  return { id: `model.retrain.${name}`, severity: 'low', stage: stageOr(stage), message: `retraining ${name} in the background made no candidate: ${why}` };
}

/** `model.rollback.<name>`: the daemon rolled a promoted version back (its live skill fell, or it failed at inference). */
export function rollbackCondition(name: string, stage: string, from: string, to: string, why: string): AlarmCondition {
  return { id: `model.rollback.${name}`, severity: 'medium', stage: stageOr(stage), message: `${name}@${from} rolled back to ${to}: ${why}` };
}
