import type Database from 'better-sqlite3';
import type { ReadingRow, HistoryTable, TableRows } from '../contract/rows.js';
import { HISTORY_TABLES } from '../contract/rows.js';
import type { StageId } from '../contract/plant.js';
import { EdgeError } from '../lib/lifecycle.js';
import { TABLE_SPECS, fromSqlRow } from './tables.js';

/** A row as served by the history and sent to the central server: the contract row plus `site`. */
export type SiteRow<T extends HistoryTable> = TableRows[T] & { readonly site: string };

export interface HistoryPage<T extends HistoryTable = HistoryTable> {
  readonly rows: SiteRow<T>[];
  /** Cursor for the next page; equals the request's cursor when nothing new arrived. */
  readonly next: string;
}

/** Optional filters of a history page: event time [from, to) on the table's time column, stage, signal. */
export interface HistoryFilter {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly stage?: string | undefined;
  readonly signal?: string | undefined;
}

export interface SeqBatch<T extends HistoryTable = HistoryTable> {
  readonly rows: SiteRow<T>[];
  /** Highest seq in `rows`, or the `after` given when empty. */
  readonly lastSeq: number;
}

export function isHistoryTable(name: string): name is HistoryTable {
  return (HISTORY_TABLES as readonly string[]).includes(name);
}

/**
 * Cursors are the decimal seq of the last row served. Clients treat them as opaque; they stay valid
 * after retention and shedding because seq values are never reused.
 */
export function parseCursor(since: string | undefined): number {
  if (since === undefined || since === '') return 0;
  if (!/^\d{1,15}$/.test(since)) throw new EdgeError('BAD_CURSOR', `bad cursor "${since.slice(0, 40)}"`, 2);
  return Number(since);
}

export function createReader(db: Database.Database, site: string) {
  const pageStatements = new Map<HistoryTable, Database.Statement>();
  const stats = db.prepare('SELECT AVG(value) AS mean, MIN(value) AS min, MAX(value) AS max, COUNT(*) AS n FROM readings WHERE stage = ? AND signal = ? AND ts >= ? AND ts < ?');
  const page = (table: HistoryTable): Database.Statement => {
    let stmt = pageStatements.get(table);
    if (!stmt) {
      stmt = db.prepare(`SELECT * FROM ${table} WHERE seq > ? ORDER BY seq LIMIT ?`);
      pageStatements.set(table, stmt);
    }
    return stmt;
  };

  function readAfter<T extends HistoryTable>(table: T, after: number, limit: number): SeqBatch<T> {
    const spec = TABLE_SPECS[table];
    const raw = page(table).all(after, limit) as Record<string, unknown>[];
    const rows = raw.map((r) => ({ ...fromSqlRow(spec, r), site }) as unknown as SiteRow<T>);
    const last = raw[raw.length - 1];
    return { rows, lastSeq: last ? Number(last['seq']) : after };
  }

  return {
    readAfter,
    history<T extends HistoryTable>(table: T, since: string | undefined, limit: number, filter: HistoryFilter = {}): HistoryPage<T> {
      if (!isHistoryTable(table)) throw new EdgeError('BAD_TABLE', `unknown table "${String(table).slice(0, 40)}"`, 2);
      const after = parseCursor(since);
      const spec = TABLE_SPECS[table];
      const where = ['seq > ?'];
      const args: (string | number)[] = [after];
      const has = (column: string): boolean => spec.columns.some((c) => c.column === column);
      if (filter.from !== undefined) {
        where.push(`"${spec.timeColumn}" >= ?`);
        args.push(filter.from);
      }
      if (filter.to !== undefined) {
        where.push(`"${spec.timeColumn}" < ?`);
        args.push(filter.to);
      }
      for (const column of ['stage', 'signal'] as const) {
        const value = filter[column];
        if (value === undefined) continue;
        if (!has(column)) throw new EdgeError('BAD_FILTER', `table ${table} has no ${column} column`, 2);
        where.push(`"${column}" = ?`);
        args.push(value);
      }
      if (where.length === 1) {
        const batch = readAfter(table, after, limit);
        return { rows: batch.rows, next: String(batch.lastSeq) };
      }
      const raw = db.prepare(`SELECT * FROM ${table} WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args, limit) as Record<string, unknown>[];
      const rows = raw.map((r) => ({ ...fromSqlRow(spec, r), site }) as unknown as SiteRow<T>);
      const last = raw[raw.length - 1];
      return { rows, next: String(last ? Number(last['seq']) : after) };
    },
    maxSeq(table: HistoryTable | 'deadletters'): number {
      const r = db.prepare(`SELECT COALESCE(MAX(seq), 0) AS s FROM ${table}`).get() as { s: number };
      return r.s;
    },
    countAfter(table: HistoryTable, after: number): number {
      const r = db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE seq > ?`).get(after) as { n: number };
      return r.n;
    },
    count(table: HistoryTable | 'deadletters' | 'shed_log'): number {
      const r = db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number };
      return r.n;
    },
    /** Mean, min, max and count of one signal's readings with from <= ts < to, by its index (none taken into memory). */
    readingStats(stage: StageId, signal: string, from: number, to: number): { mean: number | null; min: number | null; max: number | null; n: number } {
      return stats.get(stage, signal, from, to) as { mean: number | null; min: number | null; max: number | null; n: number };
    },
  };
}
export type Reader = ReturnType<typeof createReader>;
