import type { AlarmCondition } from '../contract/ports.js';

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
