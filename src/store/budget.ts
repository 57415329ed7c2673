import type Database from 'better-sqlite3';
import type { HistoryTable } from '../contract/rows.js';
import { TABLE_SPECS } from './tables.js';

/**
 * Disk budget (guarantee 4). Past `high` of maxBytes the store sheds rows in this order until it is back
 * under `low` (docs/storage.md):
 *   1. raw readings already synced, oldest first
 *   2. dead letters, oldest first (local diagnostics, never synced)
 *   3. raw readings not yet synced, oldest first
 *   4. windows, indicators, predictions already synced
 *   5. anomalies, alarm events, setpoints, operator actions already synced
 * Unsynced derived rows (above all alarm events, setpoints and anomalies) are never shed; when only those
 * are left the result says `exhausted` and the store keeps writing.
 */
export const HIGH_WATER = 0.9;
export const LOW_WATER = 0.8;

export type ShedTable = HistoryTable | 'deadletters';

export interface ShedStep {
  readonly table: ShedTable;
  /** Synced rows only (seq <= the sync cursor), unsynced only, or any row. */
  readonly part: 'synced' | 'unsynced' | 'any';
}

export const SHED_ORDER: readonly ShedStep[] = [
  { table: 'readings', part: 'synced' },
  { table: 'deadletters', part: 'any' },
  { table: 'readings', part: 'unsynced' },
  { table: 'windows', part: 'synced' },
  { table: 'indicators', part: 'synced' },
  { table: 'predictions', part: 'synced' },
  { table: 'anomalies', part: 'synced' },
  { table: 'alarm_events', part: 'synced' },
  { table: 'setpoints', part: 'synced' },
  { table: 'operator_actions', part: 'synced' },
];

export interface ShedCount {
  readonly table: ShedTable;
  readonly synced: boolean;
  readonly rows: number;
  readonly fromSeq: number;
  readonly toSeq: number;
}

export interface SheddingInfo {
  readonly ts: number;
  readonly reason: 'budget' | 'retention';
  readonly usedBytesBefore: number;
  readonly usedBytesAfter: number;
  readonly maxBytes: number;
  readonly shed: readonly ShedCount[];
  /** Still over budget with nothing left that may be shed. */
  readonly exhausted: boolean;
}

/** Bytes held by live pages plus the WAL: what the budget counts (freed pages are vacuumed away). */
export function usedBytes(db: Database.Database, walBytes: number): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize + walBytes;
}

/** Deletes up to `limit` oldest rows of one step; returns what went. */
function shedChunk(db: Database.Database, step: ShedStep, syncedUpTo: number, limit: number): ShedCount | undefined {
  const where = step.part === 'synced' ? 'WHERE seq <= ?' : step.part === 'unsynced' ? 'WHERE seq > ?' : 'WHERE ? IS NOT NULL';
  const range = db
    .prepare(`SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM (SELECT seq FROM ${step.table} ${where} ORDER BY seq LIMIT ?)`)
    .get(syncedUpTo, limit) as { lo: number | null; hi: number | null; n: number };
  if (range.lo === null || range.hi === null || range.n === 0) return undefined;
  db.prepare(`DELETE FROM ${step.table} WHERE seq BETWEEN ? AND ?`).run(range.lo, range.hi);
  return { table: step.table, synced: step.part === 'synced', rows: range.n, fromSeq: range.lo, toSeq: range.hi };
}

export interface ShedContext {
  readonly db: Database.Database;
  readonly maxBytes: number;
  /** Highest seq synced for a table (0 when nothing was synced or sync is off). */
  syncedUpTo(table: HistoryTable): number;
  /** Current WAL size in bytes (after a checkpoint this is small). */
  walBytes(): number;
  /** Returns freed pages to the file system and truncates the WAL. */
  compact(): void;
  readonly now: number;
}

function merge(counts: ShedCount[], next: ShedCount): void {
  const last = counts[counts.length - 1];
  if (last && last.table === next.table && last.synced === next.synced) {
    counts[counts.length - 1] = { ...last, rows: last.rows + next.rows, toSeq: next.toSeq };
  } else counts.push(next);
}

/** Sheds in SHED_ORDER until the used bytes fall under LOW_WATER; undefined when under HIGH_WATER. */
export function shedToBudget(ctx: ShedContext): SheddingInfo | undefined {
  if (usedBytes(ctx.db, ctx.walBytes()) <= ctx.maxBytes * HIGH_WATER) return undefined;
  // A checkpoint and a vacuum of already freed pages may be enough.
  ctx.compact();
  const before = usedBytes(ctx.db, ctx.walBytes());
  if (before <= ctx.maxBytes * HIGH_WATER) return undefined;
  const target = ctx.maxBytes * LOW_WATER;
  const shed: ShedCount[] = [];
  let used = before;
  for (const step of SHED_ORDER) {
    const syncedUpTo = step.table === 'deadletters' ? 0 : ctx.syncedUpTo(step.table);
    while (used > target) {
      const rows = rowCount(ctx.db, step.table);
      // Rows to drop from the share of the file this table holds; at least a few pages' worth.
      const perRow = rows > 0 ? used / Math.max(rows, 1) : 100;
      const limit = Math.max(256, Math.ceil(((used - target) / Math.max(perRow, 16)) * 1.1));
      const chunk = ctx.db.transaction(() => shedChunk(ctx.db, step, syncedUpTo, limit))();
      if (!chunk) break;
      merge(shed, chunk);
      ctx.compact();
      used = usedBytes(ctx.db, ctx.walBytes());
    }
    if (used <= target) break;
  }
  logShed(ctx.db, ctx.now, 'budget', shed);
  return { ts: ctx.now, reason: 'budget', usedBytesBefore: before, usedBytesAfter: used, maxBytes: ctx.maxBytes, shed, exhausted: used > ctx.maxBytes * HIGH_WATER };
}

function rowCount(db: Database.Database, table: ShedTable): number {
  const r = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number };
  return r.n;
}

export function logShed(db: Database.Database, now: number, reason: 'budget' | 'retention', shed: readonly ShedCount[]): void {
  const insert = db.prepare('INSERT INTO shed_log (ts, tbl, reason, synced, rows, from_seq, to_seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const s of shed) insert.run(now, s.table, reason, s.synced ? 1 : 0, s.rows, s.fromSeq, s.toSeq);
  })();
}

export interface RetentionDays {
  readonly readings: number;
  readonly deadletters: number;
  readonly derived: number;
}

/**
 * Deletes rows older than their retention (event time). Derived rows go only once synced, unless sync
 * is off; that keeps an outage longer than the retention from losing unsynced alarms.
 */
export function applyRetention(db: Database.Database, now: number, days: RetentionDays, syncedUpTo: (t: HistoryTable) => number, syncEnabled: boolean): ShedCount[] {
  const day = 86_400_000;
  const out: ShedCount[] = [];
  const run = (table: ShedTable, timeColumn: string, cutoff: number, maxSeq: number, synced: boolean): void => {
    const r = db
      .prepare(`SELECT MIN(seq) AS lo, MAX(seq) AS hi, COUNT(*) AS n FROM ${table} WHERE "${timeColumn}" < ? AND seq <= ?`)
      .get(cutoff, maxSeq) as { lo: number | null; hi: number | null; n: number };
    if (r.lo === null || r.hi === null || r.n === 0) return;
    db.prepare(`DELETE FROM ${table} WHERE "${timeColumn}" < ? AND seq <= ?`).run(cutoff, maxSeq);
    out.push({ table, synced, rows: r.n, fromSeq: r.lo, toSeq: r.hi });
  };
  db.transaction(() => {
    run('deadletters', 'ts', now - days.deadletters * day, Number.MAX_SAFE_INTEGER, false);
    const aged = agedReadings(db, now - days.readings * day);
    if (aged) out.push(aged);
    for (const spec of Object.values(TABLE_SPECS)) {
      if (spec.name === 'readings') continue;
      const maxSeq = syncEnabled ? syncedUpTo(spec.name) : Number.MAX_SAFE_INTEGER;
      run(spec.name, spec.timeColumn, now - days.derived * day, maxSeq, syncEnabled);
    }
  })();
  if (out.length > 0) logShed(db, now, 'retention', out);
  return out;
}

/**
 * Readings older than the cutoff, walked from the oldest seq in chunks until a chunk holds none: readings
 * arrive roughly in time order, so this needs no time index. A late reading far behind the stream waits
 * for the budget or for the walk to reach it.
 */
function agedReadings(db: Database.Database, cutoff: number): ShedCount | undefined {
  const chunk = db.prepare('SELECT seq, ts FROM readings WHERE seq > ? ORDER BY seq LIMIT 10000');
  const del = db.prepare('DELETE FROM readings WHERE seq BETWEEN ? AND ? AND ts < ?');
  let after = 0;
  let rows = 0;
  let from: number | undefined;
  let to = 0;
  for (;;) {
    const got = chunk.all(after) as { seq: number; ts: number }[];
    const old = got.filter((r) => r.ts < cutoff);
    const first = got[0];
    const last = got[got.length - 1];
    if (!first || !last || old.length === 0) break;
    rows += del.run(first.seq, last.seq, cutoff).changes;
    from ??= old[0]?.seq;
    to = old[old.length - 1]?.seq ?? to;
    after = last.seq;
  }
  return from === undefined ? undefined : { table: 'readings', synced: false, rows, fromSeq: from, toSeq: to };
}
