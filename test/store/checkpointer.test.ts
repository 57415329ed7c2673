import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/lib/logger.js';
import { Checkpointer } from '../../src/store/checkpointer.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, readingsFrom, tempDir } from './helpers.js';

const cleanups = cleanupsAfterEach();

describe('WAL checkpoints on a worker thread', () => {
  it('copies the WAL into the database while the daemon writes, with the automatic checkpoint off', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'edge.sqlite');
    const store = openStore(path);
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    const empty = statSync(path).size;
    // Far below the 1000 pages at which SQLite itself would checkpoint inside a commit.
    await store.appendReadings(readingsFrom(0, 5_000));
    const probe = new Database(path, { readonly: true });
    cleanups.push(() => {
      probe.close();
    });
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(empty), { timeout: 5_000, interval: 100 });
    expect((probe.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n).toBe(5_000);
  });

  it('gives the checkpoints back to SQLite when the worker cannot run', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const onFailure = vi.fn();
    const checkpointer = new Checkpointer(join(tmp.dir, 'missing.sqlite'), 50, silentLogger(), onFailure);
    checkpointer.start();
    cleanups.push(() => checkpointer.close());
    await vi.waitFor(() => expect(onFailure).toHaveBeenCalledTimes(1), { timeout: 5_000 });
  });

  it('keeps committing while another process holds an old snapshot, and truncates the WAL back into its share once it leaves', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'edge.sqlite');
    const maxBytes = 16 * 1_048_576;
    const store = openStore(path, { maxBytes });
    await store.start(new AbortController().signal);
    cleanups.push(() => store.stop());
    // Recent event times: the retention leaves them alone.
    const t0 = Date.now() - 86_400_000;
    await store.appendReadings(readingsFrom(0, 1_000, t0));
    // A backup or a training run reading the file: its snapshot keeps the WAL from being reset.
    const reader = new Database(path, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM readings').get();
    let n = 1_000;
    for (let round = 0; round < 40; round += 1, n += 2_000) {
      await store.appendReadings(readingsFrom(n, 2_000, t0));
      store.checkBudget();
    }
    expect([store.count('readings'), store.count('shed_log'), store.count('deadletters')]).toEqual([n, 0, 0]);
    expect(store.count('shed_log')).toBe(0);
    expect(store.sizeBytes()).toBeGreaterThan(maxBytes);
    reader.exec('COMMIT');
    reader.close();
    await vi.waitFor(() => expect(store.sizeBytes()).toBeLessThanOrEqual(maxBytes), { timeout: 10_000, interval: 50 });
  });

  it('lets the WAL start over at its beginning once it holds a quarter of its limit, so its file is overwritten instead of grown or truncated', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'edge.sqlite');
    const db = new Database(path);
    cleanups.push(() => {
      db.close();
    });
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const limit = 4 * 1_048_576;
    const checkpointer = new Checkpointer(path, 20, silentLogger(), () => undefined, limit);
    checkpointer.start();
    cleanups.push(() => checkpointer.close());
    // The worker is up (its first checkpoint answered) before the writes start, as in the daemon.
    await vi.waitFor(() => expect(checkpointer.passes).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const wal = `${path}-wal`;
    let written = 0;
    let largest = 0;
    // One small commit after another, as a PLC with one message in flight makes them.
    // On a busy machine the worker may restart the WAL later than a quarter of the limit: keep writing
    // until three restarts happened and the WAL was written over a few times, or the bound is reached.
    for (let i = 0; i < 400_000 && (checkpointer.restarts < 3 || written <= 3 * largest); i += 1) {
      insert.run('x'.repeat(100));
      written += 4_120;
      if (i % 10 === 0) {
        largest = Math.max(largest, statSync(wal).size);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(checkpointer.restarts).toBeGreaterThanOrEqual(3);
    // More was written to the WAL than its file ever held: its blocks were written over.
    expect(written).toBeGreaterThan(2 * largest);
    expect(statSync(wal).size).toBeGreaterThan(0);
  });
});
