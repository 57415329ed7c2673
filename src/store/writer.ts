import type Database from 'better-sqlite3';
import type { Reading } from '../contract/reading.js';

/** Rows per multi-row INSERT; then smaller statements for the rest of a group commit. */
export const READING_CHUNKS = [128, 16, 1] as const;
const COLUMNS = 6;

/**
 * Inserts readings with multi-row `INSERT OR IGNORE ... VALUES (...), (...)` statements: one
 * statement execution per 128 rows instead of one per row (the per-execution cost of binding, stepping
 * and resetting is most of a single-row insert). Rows keep their order, so `seq` follows arrival as
 * before, and a duplicate natural key is ignored row by row as before.
 */
export function createReadingWriter(db: Database.Database): (groups: Iterable<readonly Reading[]>) => void {
  const statements = READING_CHUNKS.map((rows) => ({
    rows,
    stmt: db.prepare(
      `INSERT OR IGNORE INTO readings (stage, signal, ts, value, quality, received_at) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
    ),
    args: new Array<string | number>(rows * COLUMNS),
  }));
  const largest = statements[0];
  if (!largest) throw new Error('no reading statement');
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

  const flushTail = (): void => {
    // `pending` holds `filled` rows: write them with the next smaller statements.
    let from = 0;
    for (const s of statements) {
      if (s === largest) continue;
      while (filled - from >= s.rows) {
        const args = s.args;
        for (let i = 0; i < s.rows * COLUMNS; i += 1) args[i] = pending[from * COLUMNS + i] as string | number;
        s.stmt.run(args);
        from += s.rows;
      }
    }
    filled = 0;
  };

  return (groups) => {
    filled = 0;
    try {
      for (const readings of groups) {
        for (const r of readings) {
          put(pending, filled * COLUMNS, r);
          filled += 1;
          if (filled === largest.rows) {
            largest.stmt.run(pending);
            filled = 0;
          }
        }
      }
      flushTail();
    } finally {
      filled = 0;
    }
  };
}
