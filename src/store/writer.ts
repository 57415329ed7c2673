import type Database from 'better-sqlite3';
import type { Reading } from '../contract/reading.js';

/** Rows per multi-row INSERT; the rest of a group commit goes in statements of TAIL_CHUNK rows, then one of its exact size. */
export const READING_CHUNK = 128;
export const TAIL_CHUNK = 32;
const COLUMNS = 6;

/** What one call of the reading writer added. */
export interface ReadingsInserted {
  /** Rows added (a reading whose key was taken adds none). */
  readonly added: number;
  /** seq of the last row added; the rows added hold (lastSeq - added, lastSeq] (0 when none was added). */
  readonly lastSeq: number;
}

/**
 * Inserts readings with multi-row `INSERT OR IGNORE ... VALUES (...), (...)` statements: one
 * statement execution per 128 rows instead of one per row (the per-execution cost of binding, stepping
 * and resetting is most of a single-row insert). Rows keep their order, so `seq` follows arrival as
 * before, and a duplicate natural key is ignored row by row as before. `seq` is the table's rowid
 * (no AUTOINCREMENT since schema version 4): each row added takes the highest seq plus one, so the rows
 * of one call hold consecutive seqs, and what the statements report says which they are, without a
 * query of its own.
 */
export function createReadingWriter(db: Database.Database): (groups: Iterable<readonly Reading[]>) => ReadingsInserted {
  /** Statement and argument array per row count, prepared when first needed (a lone PLC's commit is 1-20 rows). */
  const statements = new Map<number, { stmt: Database.Statement; args: (string | number)[] }>();
  const statementFor = (rows: number): { stmt: Database.Statement; args: (string | number)[] } => {
    let s = statements.get(rows);
    if (!s) {
      s = {
        stmt: db.prepare(
          `INSERT OR IGNORE INTO readings (stage, signal, ts, value, quality, received_at) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        ),
        args: new Array<string | number>(rows * COLUMNS),
      };
      statements.set(rows, s);
    }
    return s;
  };
  const largest = statementFor(READING_CHUNK);
  // Rows waiting for a full chunk; reused across commits so a commit allocates nothing per row.
  const pending = largest.args;
  let filled = 0;

  const put = (args: (string | number)[], at: number, r: Reading): void => {
    args[at] = r.stage;
    args[at + 1] = r.signal;
    args[at + 2] = r.ts;
    args[at + 3] = r.value;
    args[at + 4] = r.quality;
    args[at + 5] = r.receivedAt;
  };

  let added = 0;
  let lastSeq = 0;
  const run = (stmt: Database.Statement, args: (string | number)[]): void => {
    const r = stmt.run(args);
    if (r.changes > 0) {
      added += r.changes;
      lastSeq = Number(r.lastInsertRowid);
    }
  };

  const flushTail = (): void => {
    // `pending` holds `filled` rows, fewer than a chunk: TAIL_CHUNK rows at a time, then the rest in one
    // statement of its exact size (at most READING_CHUNK, TAIL_CHUNK and 1..TAIL_CHUNK - 1 are prepared).
    let from = 0;
    while (filled > from) {
      const rows = Math.min(TAIL_CHUNK, filled - from);
      const tail = statementFor(rows);
      const args = tail.args;
      for (let i = 0; i < rows * COLUMNS; i += 1) args[i] = pending[from * COLUMNS + i] as string | number;
      run(tail.stmt, args);
      from += rows;
    }
    filled = 0;
  };

  return (groups) => {
    filled = 0;
    added = 0;
    lastSeq = 0;
    try {
      for (const readings of groups) {
        for (const r of readings) {
          put(pending, filled * COLUMNS, r);
          filled += 1;
          if (filled === READING_CHUNK) {
            run(largest.stmt, pending);
            filled = 0;
          }
        }
      }
      flushTail();
      return { added, lastSeq };
    } finally {
      filled = 0;
    }
  };
}

/**
 * Runs the group commit's transaction without SQLite's own syncs, which would block the event loop:
 * with `synchronous = FULL` the WAL fsync is done afterwards (wal-sync.ts: in place only for a small
 * commit on a fast disk), and
 * while the checkpoint worker does every checkpoint (with its own FULL connection, which syncs the WAL
 * before and the database after), the only sync left in a commit is the WAL header's when the WAL
 * restarts after a complete checkpoint: everything before it is then in the synced database file, so
 * `OFF` loses nothing, and the next fsync (or, in NORMAL mode, the next checkpoint) covers the header.
 * When the daemon checkpoints in its own commits again (the worker failed), NORMAL keeps the
 * checkpoint's syncs. Every other write keeps the configured mode.
 */
export function createGroupCommit<B>(
  db: Database.Database,
  transaction: (batch: B) => void,
  configured: 'FULL' | 'NORMAL',
  checkpointsElsewhere: () => boolean,
): (batch: B) => void {
  const off = db.prepare('PRAGMA synchronous = OFF');
  const normal = db.prepare('PRAGMA synchronous = NORMAL');
  const restore = db.prepare(`PRAGMA synchronous = ${configured}`);
  return (batch) => {
    const elsewhere = checkpointsElsewhere();
    if (elsewhere) off.run();
    else if (configured === 'FULL') normal.run();
    try {
      transaction(batch);
    } finally {
      if (elsewhere || configured === 'FULL') restore.run();
    }
  };
}
