import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, migrate } from '../../src/store/schema.js';

const tables = (db: Database.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
const columns = (db: Database.Database, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

describe('schema version 5: model_events', () => {
  it('a store at version 4 gains the table in place, keeping its rows', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
      for (const sql of m.statements) db.exec(sql);
      db.prepare('INSERT INTO schema_version VALUES (?, 0)').run(m.version);
    }
    db.prepare(`INSERT INTO alarm_events (alarm_id, ts, state, severity, stage, signal, message, "by", verdict) VALUES ('anomaly.aerobic', 1, 'active_ack', 'medium', 'aerobic', NULL, 'm', 'op', 'false_alarm')`).run();
    expect(tables(db)).not.toContain('model_events');
    expect(migrate(db, 10)).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v > 4));
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(5);
    expect(columns(db, 'model_events')).toEqual(['seq', 'ts', 'model', 'event', 'by', 'previous', 'reason', 'detail']);
    expect(db.prepare('SELECT alarm_id, verdict FROM alarm_events').all()).toEqual([{ alarm_id: 'anomaly.aerobic', verdict: 'false_alarm' }]);
    const insert = db.prepare('INSERT OR IGNORE INTO model_events (ts, model, event, "by", previous, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
    insert.run(5, 'predict-aerobic@1.0.1', 'activation', 'cli', '1.0.0', 'activated', '{}');
    insert.run(5, 'predict-aerobic@1.0.1', 'activation', 'daemon', '1.0.0', 'again', '{}');
    expect(db.prepare('SELECT COUNT(*) AS n FROM model_events').get()).toEqual({ n: 1 });
    expect(migrate(db, 11)).toEqual([]);
  });
});
