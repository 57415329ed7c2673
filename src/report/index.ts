import Database from 'better-sqlite3';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EdgeConfig } from '../config/schema.js';
import type { StageId } from '../contract/plant.js';
import { createReader } from '../store/reader.js';
import { computeReport, dayBounds, type DailyReport } from './compute.js';
import { reportCsv, reportHtml } from './render.js';
import type { Sample } from './signal-day.js';

export { computeReport, dayBounds, type DailyReport } from './compute.js';
export { reportCsv, reportHtml } from './render.js';

export type ReportFormat = 'json' | 'csv' | 'html';
const MAX_ALARM_EVENTS = 1_000_000;
/** Readings per query: one page is a few milliseconds of the event loop, whatever the day holds. */
const PAGE_ROWS = 20_000;

/**
 * The regulator's daily report read from the store file on a read-only connection of its own: beside
 * a running daemon (whose connection keeps committing while the report reads, WAL), each signal's day
 * a page at a time by its index, yielding to the event loop between pages.
 */
export async function dailyReport(storePath: string, config: Readonly<EdgeConfig>, day: string): Promise<DailyReport> {
  const timezone = config.timezone;
  const bounds = dayBounds(day, timezone);
  if (!bounds) throw new Error(`bad day "${day.slice(0, 20)}": YYYY-MM-DD`);
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  try {
    // Quality bad (an analyzer in calibration, a meter the PLC marks failed) is left out, as the windows leave it out.
    const page = db.prepare<[string, string, number, number, number], Sample & { bad: number }>("SELECT ts, value, quality = 'bad' AS bad FROM readings WHERE stage = ? AND signal = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?");
    const { from: dayStart, to: dayEnd } = bounds;
    const refused = new Map<string, number>();
    async function* readings(stage: StageId, signal: string): AsyncIterable<readonly Sample[]> {
      let from = dayStart;
      for (;;) {
        const rows = page.all(stage, signal, from, dayEnd, PAGE_ROWS);
        const usable = rows.filter((r) => Number.isFinite(r.value) && r.bad === 0);
        const bad = rows.length - usable.length;
        if (bad > 0) refused.set(`${stage}.${signal}`, (refused.get(`${stage}.${signal}`) ?? 0) + bad);
        if (usable.length > 0) yield usable;
        const last = rows[rows.length - 1];
        if (rows.length < PAGE_ROWS || !last) return;
        // (stage, signal, ts) is unique: the next page starts after the last time read
        from = last.ts + 1;
        await nextTurn();
      }
    }
    const alarmEvents = createReader(db, config.site).history('alarm_events', undefined, MAX_ALARM_EVENTS, { from: bounds.from, to: bounds.to }).rows;
    return await computeReport({ site: config.site, day, timezone, signals: config.signals, limits: config.alarms.effluentLimits, readings, leftOut: (stage, signal) => refused.get(`${stage}.${signal}`) ?? 0, alarmEvents });
  } finally {
    db.close();
  }
}

export function renderReport(report: DailyReport, format: ReportFormat): { body: string; contentType: string } {
  if (format === 'csv') return { body: reportCsv(report), contentType: 'text/csv; charset=utf-8' };
  if (format === 'html') return { body: reportHtml(report), contentType: 'text/html; charset=utf-8' };
  return { body: `${JSON.stringify(report)}\n`, contentType: 'application/json; charset=utf-8' };
}
