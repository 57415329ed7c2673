import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import type { Reading } from '../../src/contract/reading.js';
import { migrate } from '../../src/store/schema.js';
import { createReadingWriter, READING_CHUNK, TAIL_CHUNK } from '../../src/store/writer.js';
import { readingsFrom, tempDir } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function openDb(): Database.Database {
  const tmp = tempDir('wwtp-writer-');
  const db = new Database(`${tmp.dir}/w.sqlite`);
  db.pragma('journal_mode = WAL');
  migrate(db, 0);
  cleanups.push(tmp.cleanup, () => db.close());
  return db;
}

type Row = { seq: number; stage: string; signal: string; ts: number; value: number; quality: string; received_at: number };
const stored = (db: Database.Database): Row[] => db.prepare('SELECT * FROM readings ORDER BY seq').all() as Row[];
const asRow = (r: Reading) => ({ stage: r.stage, signal: r.signal, ts: r.ts, value: r.value, quality: r.quality, received_at: r.receivedAt });

describe('multi-row reading writer', () => {
  it('writes every row once, in arrival order, across chunk boundaries and groups', () => {
    const largest = READING_CHUNK;
    // Sizes around each chunk size, split into uneven groups.
    const sizes = [1, 9, TAIL_CHUNK - 1, TAIL_CHUNK, TAIL_CHUNK + 1, 3 * TAIL_CHUNK + 5, largest - 1, largest, largest + 1, 2 * largest + 17];
    for (const size of sizes) {
      const db = openDb();
      const write = createReadingWriter(db);
      const readings = readingsFrom(0, size);
      const groups = [readings.slice(0, 7), readings.slice(7, 7 + 150), readings.slice(157)].filter((g) => g.length > 0);
      db.transaction(() => write(groups))();
      const rows = stored(db);
      expect(rows.map(({ seq: _seq, ...rest }) => rest)).toEqual(readings.map(asRow));
      expect(rows.map((r) => r.seq)).toEqual(readings.map((_, i) => i + 1));
    }
  });

  it('keeps the first row of a natural key inside one statement and across commits', () => {
    const db = openDb();
    const write = createReadingWriter(db);
    const readings = readingsFrom(0, 40);
    const resent = readings.slice(10, 20).map((r) => ({ ...r, value: -1 }));
    db.transaction(() => write([readings, resent]))();
    db.transaction(() => write([resent]))();
    const rows = stored(db);
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => r.value !== -1)).toBe(true);
  });

  it('matches one-row-at-a-time inserts for any split into groups', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 50 }), (groupSizes, overlap) => {
        const db = openDb();
        const write = createReadingWriter(db);
        let start = 0;
        const groups: Reading[][] = [];
        for (const n of groupSizes) {
          // Each group re-sends `overlap` readings of the one before it.
          const from = Math.max(0, start - overlap);
          groups.push(readingsFrom(from, n));
          start = from + n;
        }
        db.transaction(() => write(groups))();
        const reference = new Map<string, Reading>();
        for (const r of groups.flat()) {
          const key = `${r.stage}/${r.signal}/${r.ts}`;
          if (!reference.has(key)) reference.set(key, r);
        }
        expect(stored(db).map(({ seq: _seq, ...rest }) => rest)).toEqual([...reference.values()].map(asRow));
      }),
      { numRuns: 40 },
    );
  });
});
