import type Database from 'better-sqlite3';
import type { HistoryTable } from '../contract/rows.js';
import { TABLE_SPECS } from './tables.js';

/**
 * Disk budget (guarantee 4). `storage.maxBytes` is what the files (database, WAL, shared memory) may
 * take on disk. The WAL gets a fixed share of it (`walAllowance`: its journal_size_limit, and the size
 * at which a truncating checkpoint runs); the data (live pages of the database) get the rest. Only the
 * data decide shedding: past `high` of the data budget the store sheds rows in this order until the data
 * are back under `low` (docs/storage.md):
 *   1. raw readings already synced, oldest first
 *   2. dead letters, oldest first (local diagnostics, never synced)
 *   3. raw readings not yet synced, oldest first
 *   4. windows, indicators, predictions already synced
 *   5. anomalies, alarm events, setpoints, operator actions already synced
 * Unsynced derived rows (above all alarm events, setpoints and anomalies) are never shed; when only those
 * are left the result says `exhausted` and the store keeps writing. A WAL that outgrew its share, or
 * pages freed by earlier deletes, are given back first (checkpoint, truncate, incremental vacuum): that
 * sheds nothing.
 */
export const HIGH_WATER = 0.9;
export const LOW_WATER = 0.8;
/**
 * Data back under the budget: below this share of the data budget, under where a shedding pass leaves
 * them (LOW_WATER), so `storage.shedding` clears once the budget was raised or retention freed room, and
 * does not come and go with the passes of a store that stays full.
 */
export const CLEAR_WATER = 0.7;

/** A budget check that shed nothing and found the data under CLEAR_WATER of their budget. */
export interface UnderBudgetInfo {
  readonly ts: number;
  readonly maxBytes: number;
  readonly dataBudgetBytes: number;
  /** Data (live pages), bytes. */
  readonly usedBytes: number;
}

const MIB = 1_048_576;

/** The WAL's share of maxBytes: a quarter, at least 256 KiB, at most 64 MiB. */
export function walAllowance(maxBytes: number): number {
  return Math.floor(Math.min(64 * MIB, Math.max(MIB / 4, maxBytes / 4)));
}

/** The shared-memory index beside a WAL of `walBytes`: 32 KiB per 4096 frames of 4 KiB, and one more. */
function shmAllowance(walBytes: number): number {
  return 32_768 * (Math.ceil(walBytes / (4096 * 4096)) + 1);
}

/** What the data (live pages) may take: maxBytes less the WAL's and the shared memory's share. */
export function dataBudget(maxBytes: number): number {
  const wal = walAllowance(maxBytes);
  return Math.max(0, maxBytes - wal - shmAllowance(wal));
}

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
  { table: 'shadow_outputs', part: 'synced' },
  { table: 'windows', part: 'synced' },
  { table: 'indicators', part: 'synced' },
  { table: 'predictions', part: 'synced' },
  { table: 'anomalies', part: 'synced' },
  { table: 'alarm_events', part: 'synced' },
  { table: 'setpoints', part: 'synced' },
  { table: 'operator_actions', part: 'synced' },
  { table: 'model_events', part: 'synced' },
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
  /** Data (live pages) before and after, bytes. */
  readonly usedBytesBefore: number;
  readonly usedBytesAfter: number;
  readonly maxBytes: number;
  /** What the data may take (maxBytes less the WAL's share). */
  readonly dataBudgetBytes: number;
  /** Database, WAL and shared memory on disk once the pass is done. */
  readonly fileBytesAfter: number;
  readonly shed: readonly ShedCount[];
  /** Still over budget with nothing left that may be shed. */
  readonly exhausted: boolean;
}

/** Bytes held by live pages: the data, whatever the WAL holds and however many freed pages wait. */
export function dataBytes(db: Database.Database): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

/**
 * Readings' seq has no AUTOINCREMENT (schema.ts): a new reading takes the highest seq plus one, so the
 * reading holding the highest seq is never deleted, or its seq (and the ones below it, if they went too)
 * would be given again and a cursor past them would skip the new rows.
 */
const KEEP_NEWEST_READING = 'seq < (SELECT MAX(seq) FROM readings)';

/** Deletes up to `limit` oldest rows of one step; returns what went. */
function shedChunk(db: Database.Database, step: ShedStep, syncedUpTo: number, limit: number): ShedCount | undefined {
  const keep = step.table === 'readings' ? ` AND ${KEEP_NEWEST_READING}` : '';
  const where = (step.part === 'synced' ? 'WHERE seq <= ?' : step.part === 'unsynced' ? 'WHERE seq > ?' : 'WHERE ? IS NOT NULL') + keep;
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
  /** What the database, WAL and shared-memory files take on disk now. */
  fileBytes(): number;
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

/**
 * Gives back freed pages and WAL when the files pass maxBytes; sheds in SHED_ORDER when the data pass
 * HIGH_WATER of their budget, down to LOW_WATER. Undefined when nothing was shed.
 */
export function shedToBudget(ctx: ShedContext): SheddingInfo | undefined {
  const budget = dataBudget(ctx.maxBytes);
  const before = dataBytes(ctx.db);
  if (before <= budget * HIGH_WATER) {
    if (ctx.fileBytes() > ctx.maxBytes) ctx.compact();
    return undefined;
  }
  const target = budget * LOW_WATER;
  const shed: ShedCount[] = [];
  let used = before;
  for (const step of SHED_ORDER) {
    const syncedUpTo = step.table === 'deadletters' ? 0 : ctx.syncedUpTo(step.table);
    while (used > target) {
      const rows = rowCount(ctx.db, step.table);
      // Rows to drop from the share of the data this table holds; at least a few pages' worth.
      const perRow = rows > 0 ? used / Math.max(rows, 1) : 100;
      const limit = Math.max(256, Math.ceil(((used - target) / Math.max(perRow, 16)) * 1.1));
      const chunk = ctx.db.transaction(() => shedChunk(ctx.db, step, syncedUpTo, limit)).immediate();
      if (!chunk) break;
      merge(shed, chunk);
      used = dataBytes(ctx.db);
    }
    if (used <= target) break;
  }
  ctx.compact();
  logShed(ctx.db, ctx.now, 'budget', shed);
  return {
    ts: ctx.now,
    reason: 'budget',
    usedBytesBefore: before,
    usedBytesAfter: used,
    maxBytes: ctx.maxBytes,
    dataBudgetBytes: budget,
    fileBytesAfter: ctx.fileBytes(),
    shed,
    exhausted: used > budget * HIGH_WATER,
  };
}

function rowCount(db: Database.Database, table: ShedTable): number {
  const r = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number };
  return r.n;
}

export function logShed(db: Database.Database, now: number, reason: 'budget' | 'retention', shed: readonly ShedCount[]): void {
  const insert = db.prepare('INSERT INTO shed_log (ts, tbl, reason, synced, rows, from_seq, to_seq) VALUES (?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const s of shed) insert.run(now, s.table, reason, s.synced ? 1 : 0, s.rows, s.fromSeq, s.toSeq);
  }).immediate();
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
    // IMMEDIATE: a read transaction upgraded to a write fails at once while the checkpoint worker truncates the WAL.
  }).immediate();
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
  const del = db.prepare(`DELETE FROM readings WHERE seq BETWEEN ? AND ? AND ts < ? AND ${KEEP_NEWEST_READING}`);
  const newest = (db.prepare('SELECT MAX(seq) AS s FROM readings').get() as { s: number | null }).s;
  let after = 0;
  let rows = 0;
  let from: number | undefined;
  let to = 0;
  for (;;) {
    const got = chunk.all(after) as { seq: number; ts: number }[];
    const old = got.filter((r) => r.ts < cutoff && r.seq !== newest);
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
