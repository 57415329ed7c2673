import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/store/schema.js';

const columns = (db: Database.Database, table: string): string[] =>
  (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);

describe('schema version 6: predictions keep their persistence beside the horizon', () => {
  it('a store at version 5 gains the column in place, keeping its rows and their horizons', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
      db.transaction(() => {
        for (const sql of m.statements) db.exec(sql);
        db.prepare('INSERT INTO schema_version VALUES (?, 0)').run(m.version);
      })();
    }
    const insertOld = db.prepare('INSERT INTO predictions (stage, signal, ts, horizon_min, value, unit, model) VALUES (?, ?, ?, ?, ?, ?, ?)');
    insertOld.run('aerobic', 'no3_n', 1000, 15, 9.1, 'mg/L', 'predict-aerobic@1.0.0');
    insertOld.run('aerobic', 'no3_n', 1000, 60, 9.4, 'mg/L', 'predict-aerobic@1.0.0');
    expect(columns(db, 'predictions')).not.toContain('persistence');
    expect(migrate(db, 10)).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v > 5));
    expect(columns(db, 'predictions')).toContain('persistence');
    db.prepare('INSERT INTO predictions (stage, signal, ts, horizon_min, value, unit, model, persistence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run('aerobic', 'no3_n', 1000, 240, 10.2, 'mg/L', 'predict-aerobic@1.0.0', 8.8);
    expect(db.prepare('SELECT horizon_min, value, persistence FROM predictions ORDER BY horizon_min').all()).toEqual([
      { horizon_min: 15, value: 9.1, persistence: null },
      { horizon_min: 60, value: 9.4, persistence: null },
      { horizon_min: 240, value: 10.2, persistence: 8.8 },
    ]);
    expect(migrate(db, 11)).toEqual([]);
  });
});
