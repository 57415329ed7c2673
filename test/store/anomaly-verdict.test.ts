import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/store/schema.js';

const columns = (db: Database.Database, table: string): { name: string; notnull: number }[] =>
  db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; notnull: number }[];

describe('schema version 7: anomalies keep their verdict and missing inputs, a window without a verdict has no score', () => {
  it('a store at version 6 (score NOT NULL) gains the columns and a nullable score in place, keeping its rows', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 6)) {
      db.transaction(() => {
        // the anomalies table as stores before version 7 created it
        for (const sql of m.statements) db.exec(sql.startsWith('CREATE TABLE IF NOT EXISTS anomalies ') ? sql.replace('"score" REAL,', '"score" REAL NOT NULL,') : sql);
        m.run?.(db, { now: 0, site: 's' });
        db.prepare('INSERT INTO schema_version VALUES (?, 0)').run(m.version);
      })();
    }
    expect(columns(db, 'anomalies').find((c) => c.name === 'score')?.notnull).toBe(1);
    const insertOld = db.prepare('INSERT INTO anomalies (stage, ts, score, threshold, is_anomaly, contributors, model) VALUES (?, ?, ?, ?, ?, ?, ?)');
    insertOld.run('aerobic', 1000, 0.4, 1, 0, '[]', 'anomaly-aerobic@1.0.0');
    expect(() => insertOld.run('aerobic', 2000, null, 1, 0, '[]', 'anomaly-aerobic@1.0.0')).toThrow(/NOT NULL/);

    expect(migrate(db, 10)).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v > 6));
    const after = columns(db, 'anomalies');
    expect(after.find((c) => c.name === 'score')?.notnull).toBe(0);
    expect(after.map((c) => c.name)).toEqual(expect.arrayContaining(['verdict', 'missing']));
    db.prepare('INSERT INTO anomalies (stage, ts, score, threshold, is_anomaly, contributors, model, verdict, missing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('anoxic', 2000, null, 1, 0, '[]', 'anomaly-anoxic@1.0.0', 'none', '[{"input":"anoxic.no3_n.mean","reason":"absent"}]');
    expect(db.prepare('SELECT stage, score, verdict, missing FROM anomalies ORDER BY ts').all()).toEqual([
      { stage: 'aerobic', score: 0.4, verdict: null, missing: null },
      { stage: 'anoxic', score: null, verdict: 'none', missing: '[{"input":"anoxic.no3_n.mean","reason":"absent"}]' },
    ]);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(migrate(db, 11)).toEqual([]);
  });

  it('a new store gets a nullable score at once', () => {
    const db = new Database(':memory:');
    migrate(db, 1);
    expect(columns(db, 'anomalies').find((c) => c.name === 'score')?.notnull).toBe(0);
  });
});
