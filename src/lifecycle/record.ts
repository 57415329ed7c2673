import Database from 'better-sqlite3';
import type { ModelEventRow } from '../contract/rows.js';
import { migrate } from '../store/schema.js';

/**
 * A model event written by a command (the quality gate of `wwtp-edge models activate --from-store`)
 * straight into the store file, beside a running daemon (SQLite WAL, waits up to 5 s for its commit);
 * the sync takes it to MariaDB like the daemon's own rows. Idempotent by the natural key.
 */
export function recordModelEvent(path: string, site: string, row: ModelEventRow): void {
  const db = new Database(path, { fileMustExist: true, timeout: 5_000 });
  try {
    migrate(db, Date.now(), site);
    db.prepare('INSERT OR IGNORE INTO model_events (ts, model, event, "by", previous, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.ts, row.model, row.event, row.by, row.previous, row.reason, row.detail);
  } finally {
    db.close();
  }
}
