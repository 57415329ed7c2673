import type { EdgeConfig } from '../config/schema.js';
import type { AlarmEventRow, ReadingRow } from '../contract/rows.js';
import type { HistoryFilter, HistoryPage } from '../store/reader.js';
import { computeReport, dayBounds, type DailyReport } from './compute.js';
import { reportCsv, reportHtml } from './render.js';

export { computeReport, dayBounds, valueAt, type DailyReport } from './compute.js';
export { reportCsv, reportHtml } from './render.js';

/** What the report reads from the store (the live store or a read-only reader of its file). */
export interface ReportSource {
  readingsBetween(from: number, to: number, filter?: { limit?: number }): ReadingRow[];
  history(table: 'alarm_events', since: string | undefined, limit: number, filter?: HistoryFilter): HistoryPage<'alarm_events'>;
}

export type ReportFormat = 'json' | 'csv' | 'html';
const MAX_ROWS = 20_000_000;

export function dailyReport(source: ReportSource, config: Readonly<EdgeConfig>, day: string): DailyReport {
  const timezone = config.timezone;
  const bounds = dayBounds(day, timezone);
  if (!bounds) throw new Error(`bad day "${day.slice(0, 20)}": YYYY-MM-DD`);
  const readings = source.readingsBetween(bounds.from, bounds.to, { limit: MAX_ROWS });
  const alarmEvents: AlarmEventRow[] = source.history('alarm_events', undefined, MAX_ROWS, { from: bounds.from, to: bounds.to }).rows;
  return computeReport({ site: config.site, day, timezone, signals: config.signals, limits: config.alarms.effluentLimits, readings, alarmEvents });
}

export function renderReport(report: DailyReport, format: ReportFormat): { body: string; contentType: string } {
  if (format === 'csv') return { body: reportCsv(report), contentType: 'text/csv; charset=utf-8' };
  if (format === 'html') return { body: reportHtml(report), contentType: 'text/html; charset=utf-8' };
  return { body: `${JSON.stringify(report)}\n`, contentType: 'application/json; charset=utf-8' };
}
