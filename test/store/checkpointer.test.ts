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
});
