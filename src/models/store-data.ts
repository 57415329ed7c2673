import Database from 'better-sqlite3';
import type { EdgeConfig } from '../config/schema.js';
import type { PlantWindow, StageWindow } from '../contract/ports.js';
import { isStage } from '../contract/plant.js';
import type { Reading } from '../contract/reading.js';
import { EdgeError } from '../lib/lifecycle.js';
import { StageWindower } from '../windows/index.js';
import { groupPlantWindows } from './twin-windows.js';

/** Event-time span of a store read: [since, until) in ms; either end open. */
export interface TimeSpan {
  readonly since?: number | undefined;
  readonly until?: number | undefined;
}

/** A signal as the store holds it over a span. */
export interface StoredSignal {
  readonly stage: string;
  readonly signal: string;
  readonly readings: number;
  readonly first: number;
  readonly last: number;
}

/** `2010-05-01`, `2010-05-01T12:00:00Z`, ... -> epoch ms; a clear one-line error otherwise. */
export function parseIsoTime(text: string, flag: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) throw new EdgeError('BAD_TIME', `${flag} "${text}" is not an ISO-8601 time (e.g. 2010-05-01 or 2010-05-01T12:00:00Z)`, 2);
  return ms;
}

function openStore(path: string): Database.Database {
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new EdgeError('STORE_UNREADABLE', `cannot open the store ${path}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
}

function spanSql(span: TimeSpan): { where: string; args: number[] } {
  const parts: string[] = ["quality != 'bad'"];
  const args: number[] = [];
  if (span.since !== undefined) {
    parts.push('ts >= ?');
    args.push(span.since);
  }
  if (span.until !== undefined) {
    parts.push('ts < ?');
    args.push(span.until);
  }
  return { where: parts.join(' AND '), args };
}

/** Every (stage, signal) with usable (not bad) readings in the span. */
export function storedSignals(path: string, span: TimeSpan = {}): StoredSignal[] {
  const db = openStore(path);
  try {
    const { where, args } = spanSql(span);
    return db.prepare(`SELECT stage, signal, COUNT(*) AS readings, MIN(ts) AS first, MAX(ts) AS last FROM readings WHERE ${where} GROUP BY stage, signal ORDER BY stage, signal`).all(...args) as StoredSignal[];
  } finally {
    db.close();
  }
}

/** The store's usable readings of the span in event-time order (bad-quality readings are never windowed). */
export function* storeReadings(path: string, span: TimeSpan = {}): Generator<Reading> {
  const db = openStore(path);
  try {
    const { where, args } = spanSql(span);
    const rows = db.prepare(`SELECT stage, signal, ts, value, quality FROM readings WHERE ${where} ORDER BY ts`).iterate(...args) as Iterable<{ stage: string; signal: string; ts: number; value: number; quality: Reading['quality'] }>;
    for (const r of rows) if (isStage(r.stage)) yield { stage: r.stage, signal: r.signal, ts: r.ts, value: r.value, quality: r.quality, receivedAt: r.ts };
  } finally {
    db.close();
  }
}

/**
 * Plant windows from readings, through the daemon's own StageWindower (the same event-time windows,
 * gap rules and features as online), grouped by window end.
 */
export function windowReadings(config: Pick<EdgeConfig, 'windows' | 'signals'>, readings: Iterable<Reading>, onReading?: (n: number) => void): PlantWindow[] {
  const windower = new StageWindower({ windows: config.windows, signals: config.signals });
  const out: StageWindow[] = [];
  let n = 0;
  for (const r of readings) {
    out.push(...windower.push(r));
    n += 1;
    if (onReading && n % 20_000 === 0) onReading(n);
  }
  out.push(...windower.flush());
  return groupPlantWindows(out);
}

/** Alarm episodes with an operator's verdict: raised at `start`, cleared at `end` (or still open). */
export interface JudgedAlarm {
  readonly alarmId: string;
  readonly stage: string;
  readonly start: number;
  readonly end: number;
  readonly verdict: 'confirmed' | 'false_alarm';
}

/** Alarm events of the span grouped into episodes (raise to clear); the ones an operator judged. */
export function judgedAlarms(path: string, span: TimeSpan): JudgedAlarm[] {
  const db = openStore(path);
  try {
    const has = db.prepare("SELECT 1 FROM pragma_table_info('alarm_events') WHERE name = 'verdict'").get();
    if (!has) return [];
    const rows = db.prepare('SELECT alarm_id AS alarmId, stage, ts, state, verdict FROM alarm_events WHERE ts >= ? AND ts < ? ORDER BY alarm_id, ts, seq')
      .all(span.since ?? 0, span.until ?? Number.MAX_SAFE_INTEGER) as { alarmId: string; stage: string; ts: number; state: string; verdict: string | null }[];
    const out: JudgedAlarm[] = [];
    let open: { alarmId: string; stage: string; start: number; end: number; verdict: string | null } | undefined;
    const close = (): void => {
      if (open && (open.verdict === 'confirmed' || open.verdict === 'false_alarm')) out.push({ alarmId: open.alarmId, stage: open.stage, start: open.start, end: open.end, verdict: open.verdict });
      open = undefined;
    };
    for (const r of rows) {
      if (open && open.alarmId !== r.alarmId) close();
      if (r.state === 'active_unack' && (!open || open.end !== Number.MAX_SAFE_INTEGER)) {
        if (open) close();
        open = { alarmId: r.alarmId, stage: r.stage, start: r.ts, end: Number.MAX_SAFE_INTEGER, verdict: null };
      }
      if (!open) continue;
      if (r.verdict) open.verdict = r.verdict;
      if (r.state === 'cleared' || r.state === 'cleared_unack') open.end = Math.min(open.end, r.ts);
    }
    close();
    return out;
  } finally {
    db.close();
  }
}
