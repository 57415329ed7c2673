import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../src/store/schema.js';

/** Versions from `first` to the current one: later migrations keep applying after version 2's. */
const versionsFrom = (first: number): number[] => Array.from({ length: SCHEMA_VERSION - first + 1 }, (_, i) => first + i);

const columns = (db: Database.Database, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

describe('schema version 2: operator comments, ack times, verdicts, operator_actions', () => {
  it('a store made at version 1 gains the columns and the table, keeping its rows', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const sql of MIGRATIONS[0]?.statements ?? []) db.exec(sql);
    db.prepare('INSERT INTO schema_version VALUES (1, 0)').run();
    expect(columns(db, 'alarm_events')).not.toContain('verdict');
    db.prepare(`INSERT INTO alarm_events (alarm_id, ts, state, severity, stage, signal, message, "by") VALUES ('a', 1, 'active_unack', 'high', 'aerobic', NULL, 'm', NULL)`).run();
    expect(migrate(db, 5)).toEqual(versionsFrom(2));
    expect(columns(db, 'alarm_events')).toEqual(expect.arrayContaining(['comment', 'acked_at', 'verdict']));
    expect(columns(db, 'operator_actions')).toEqual(['seq', 'ts', 'by', 'action', 'target', 'source', 'detail']);
    expect(db.prepare('SELECT alarm_id, verdict FROM alarm_events').all()).toEqual([{ alarm_id: 'a', verdict: null }]);
    expect(migrate(db, 6)).toEqual([]);
  });

  it('a new store gets the same columns in one go', () => {
    const db = new Database(':memory:');
    expect(migrate(db, 1)).toEqual(versionsFrom(1));
    expect(columns(db, 'alarm_events')).toEqual(expect.arrayContaining(['comment', 'acked_at', 'verdict']));
    expect(columns(db, 'operator_actions')).toContain('detail');
  });
});
