import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, readingsFrom, tempDir } from './helpers.js';

const cleanups = cleanupsAfterEach();

/** A store file as schema version 3 left it (readings' seq with AUTOINCREMENT), holding readings 1..rows. */
function version3Store(rows: number): string {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const path = join(tmp.dir, 'v3.sqlite');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
    for (const sql of m.statements) db.exec(sql);
    db.prepare('INSERT INTO schema_version VALUES (?, 0)').run(m.version);
  }
  const insert = db.prepare('INSERT INTO readings (stage, signal, ts, value, quality, received_at) VALUES (?, ?, ?, ?, ?, ?)');
  for (const r of readingsFrom(0, rows)) insert.run(r.stage, r.signal, r.ts, r.value, r.quality, r.receivedAt);
  db.close();
  return path;
}

function deleteReadings(path: string, fromSeq: number): void {
  const db = new Database(path);
  db.prepare('DELETE FROM readings WHERE seq >= ?').run(fromSeq);
  db.close();
}

function inspect(path: string): { sql: string; sequence: number | undefined; integrity: string; seqs: number[] } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      sql: (db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'readings'").pluck().get() as string) ?? '',
      sequence: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").pluck().get() as number | undefined,
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      seqs: db.prepare('SELECT seq FROM readings ORDER BY seq').pluck().all() as number[],
    };
  } finally {
    db.close();
  }
}

describe("readings' seq without AUTOINCREMENT (store schema version 4)", () => {
  it('migrates in place, keeps every row, and gives new readings seqs above every seq given before, also after the newest were deleted', async () => {
    const path = version3Store(10);
    // Under AUTOINCREMENT, seqs 8..10 were given (and may have been served) before they were deleted.
    deleteReadings(path, 8);
    const store = openStore(path);
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    await store.appendReadings(readingsFrom(100, 3));
    await store.appendReadings(readingsFrom(200, 2));
    expect(store.readAfter('readings', 7, 100).rows.map((r) => r.ts)).toEqual([...readingsFrom(100, 3), ...readingsFrom(200, 2)].map((r) => r.ts));
    await store.stop();
    const after = inspect(path);
    expect(after.sql).not.toMatch(/AUTOINCREMENT/i);
    expect(after.sql).toMatch(/seq INTEGER PRIMARY KEY/);
    expect(after.integrity).toBe('ok');
    expect(after.seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15]);
    expect(after.sequence).toBeUndefined();
  });

  it('steps over the seqs of an emptied table, and a commit that stored nothing keeps the floor', async () => {
    const path = version3Store(5);
    deleteReadings(path, 1);
    const store = openStore(path);
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    await store.appendReadings([]);
    await store.appendReadings(readingsFrom(50, 2));
    await store.stop();
    expect(inspect(path).seqs).toEqual([6, 7]);
  });

  it('retention never deletes the newest reading, so a seq is never given twice', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'aged.sqlite');
    const store = openStore(path, { retentionDays: { readings: 1, deadletters: 1, derived: 1 } });
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    // Event times two years back: every one of them is past the retention.
    await store.appendReadings(readingsFrom(0, 20, Date.now() - 2 * 365 * 86_400_000));
    const newest = store.maxSeq('readings');
    store.checkBudget();
    expect(store.count('readings')).toBe(1);
    expect(store.maxSeq('readings')).toBe(newest);
    await store.appendReadings(readingsFrom(0, 1));
    expect(store.maxSeq('readings')).toBe(newest + 1);
  });
});
