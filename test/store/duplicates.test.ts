import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { DeadLetter, Reading } from '../../src/contract/reading.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, tempDir } from './helpers.js';

const cleanups = cleanupsAfterEach();
const T = 1_767_600_000_000;
const reading = (ts: number, value: number, quality: Reading['quality'] = 'good'): Reading => ({ stage: 'membrane', signal: 'flux', ts, value, quality, receivedAt: T });

describe('readings that repeat a stored key (stage, signal, ts)', () => {
  it('keeps the stored row; a conflicting one leaves a dead letter in the same commit, an exact one is absorbed; both are counted and not counted as readings', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const metrics = createMetrics(false);
    const store = openStore(join(tmp.dir, 'dup.sqlite'), {}, { metrics });
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    const letters: DeadLetter[] = [];
    store.onDeadLetter((d) => letters.push(d));
    await store.appendReadings([reading(T, 10)]);
    const [first, second] = await Promise.all([store.appendReadings([reading(T, 55), reading(T + 1, 1)]), store.appendReadings([reading(T, 10), reading(T + 1, 1, 'bad'), reading(T + 2, 2), reading(T + 2, 3)])]);
    // each append resolves with what it stored (what goes on to the windows)
    expect(first?.map((r) => [r.ts, r.value])).toEqual([[T + 1, 1]]);
    expect(second?.map((r) => [r.ts, r.value])).toEqual([[T + 2, 2]]);
    expect(store.count('readings')).toBe(3);
    expect(store.count('deadletters')).toBe(3);
    expect(letters.map((l) => [l.reason, (JSON.parse(l.payload) as { value: number }).value])).toEqual([
      ['conflicting_duplicate', 55],
      ['conflicting_duplicate', 1],
      ['conflicting_duplicate', 3],
    ]);
    expect(letters[0]?.topic).toBe('wwtp/test-site/membrane/flux');
    expect(letters[0]?.detail).toContain('holds 10');
    const text = await metrics.registry.metrics();
    expect(text).toContain('wwtp_edge_readings_total{stage="membrane"} 3');
    expect(text).toContain('wwtp_edge_duplicate_readings_total{kind="conflicting"} 3');
    expect(text).toContain('wwtp_edge_duplicate_readings_total{kind="exact"} 1');
    expect(text).toContain('wwtp_edge_dead_letters_total{reason="conflicting_duplicate"} 3');
  });

  it('migrates a store written before whole-millisecond timestamps: fractions go down to the ms, a key taken twice keeps the first and dead-letters a conflicting value', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'v1.sqlite');
    const v1 = new Database(path);
    v1.pragma('journal_mode = WAL');
    v1.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const sql of MIGRATIONS[0]?.statements ?? []) v1.exec(sql);
    v1.prepare('INSERT INTO schema_version VALUES (1, 0)').run();
    const insert = v1.prepare("INSERT INTO readings (stage, signal, ts, value, quality, received_at) VALUES ('membrane', 'flux', ?, ?, 'good', 0)");
    for (const [ts, value] of [[T, 1], [T + 0.25, 2], [T + 0.5, 1], [T + 0.75, 4], [T + 1, 5], [T + 2.5, 6]] as const) insert.run(ts, value);
    v1.close();
    const store = openStore(path);
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    expect(store.readAfter('readings', 0, 100).rows.map((r) => [r.ts, r.value])).toEqual([
      [T, 1],
      [T + 1, 5],
      [T + 2, 6],
    ]);
    expect(store.count('deadletters')).toBe(2);
    await store.stop();
    const raw = new Database(path, { readonly: true });
    const dead = raw.prepare("SELECT reason, payload FROM deadletters ORDER BY seq").all() as { reason: string; payload: string }[];
    const versions = raw.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    raw.close();
    expect(dead.map((d) => [d.reason, (JSON.parse(d.payload) as { ts: number; value: number }).value])).toEqual([
      ['conflicting_duplicate', 2],
      ['conflicting_duplicate', 4],
    ]);
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
  });
});
