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
});
