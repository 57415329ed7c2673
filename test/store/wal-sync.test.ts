import { rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WalSync } from '../../src/store/wal-sync.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, readingsFrom, tempDir } from './helpers.js';

const cleanups = cleanupsAfterEach();

const request = (sync: WalSync, rows = 1_000): Promise<unknown> => new Promise((resolve) => sync.request(rows, resolve));

describe('WAL fsync off the event loop', () => {
  it('shares one fsync among the commits that wait while another runs', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    writeFileSync(`${tmp.dir}/x.sqlite-wal`, 'frames');
    const sync = new WalSync(`${tmp.dir}/x.sqlite-wal`);
    const results = await Promise.all(Array.from({ length: 10 }, () => request(sync)));
    expect(results).toEqual(Array.from({ length: 10 }, () => undefined));
    // The first runs alone, the nine that came while it ran share the second.
    expect(sync.count).toBe(2);
    await sync.close();
  });

  it('reports a missing WAL as an error (nothing is acknowledged) and follows a replaced WAL file', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const wal = `${tmp.dir}/x.sqlite-wal`;
    const sync = new WalSync(wal);
    expect(await request(sync)).toMatchObject({ code: 'ENOENT' });
    writeFileSync(wal, 'frames');
    expect(await request(sync)).toBeUndefined();
    rmSync(wal);
    writeFileSync(wal, 'new frames');
    expect(await request(sync)).toBeUndefined();
    expect(sync.count).toBe(2);
    await sync.close();
  });

  it('fsyncs a small commit in place once the WAL is open, a large one or one while another runs on the thread pool', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const wal = `${tmp.dir}/x.sqlite-wal`;
    writeFileSync(wal, 'frames');
    // Any disk counts as fast here, so the rule alone decides.
    const sync = new WalSync(wal, { inlineBelowMs: Infinity });
    // The first opens the WAL on the thread pool.
    expect(await request(sync, 1)).toBeUndefined();
    const inPlace: unknown[] = [];
    sync.request(1, (error) => inPlace.push(error ?? 'ok'));
    expect(inPlace).toEqual(['ok']);
    expect(sync.inlineCount).toBe(1);
    let large = false;
    const pending = new Promise((resolve) => sync.request(17, (error) => resolve((large = error === undefined))));
    expect(large).toBe(false);
    // While that one runs, a small commit waits for the next thread-pool fsync too.
    let small = false;
    sync.request(1, () => (small = true));
    expect(small).toBe(false);
    await pending;
    await sync.idle();
    expect(small).toBe(true);
    expect([sync.count, sync.inlineCount]).toEqual([4, 1]);
    const never = new WalSync(wal, { inlineRows: 0 });
    expect(await request(never, 1)).toBeUndefined();
    let done = false;
    never.request(1, () => (done = true));
    expect(done).toBe(false);
    await never.idle();
    expect([never.count, never.inlineCount]).toEqual([2, 0]);
    await never.close();
    await sync.close();
  });

  it('stop() commits what is queued and settles it after its fsync, before the file closes', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = `${tmp.dir}/edge.sqlite`;
    const store = openStore(path, { synchronous: 'full', groupCommitMs: 1_000 });
    await store.start(new AbortController().signal);
    const appends = Array.from({ length: 5 }, (_, i) => store.appendReadings(readingsFrom(i * 300, 300)));
    await store.stop();
    const settled = await Promise.allSettled(appends);
    expect(settled.map((s) => s.status)).toEqual(Array.from({ length: 5 }, () => 'fulfilled'));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.length : 0))).toEqual([300, 300, 300, 300, 300]);
    const reopened = openStore(path);
    await reopened.start(new AbortController().signal);
    cleanups.push(() => reopened.stop());
    expect(reopened.count('readings')).toBe(1_500);
  });
});
