import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { CommitQueue, type QueueEntry } from '../../src/store/commit-queue.js';

type E = QueueEntry & { id: number };

function queue(write: (batch: readonly E[]) => void, durable?: (done: (error: unknown) => void) => void) {
  const log: string[] = [];
  const q = new CommitQueue<E>({
    ...(durable ? { durable } : {}),
    maxBatchRows: 100,
    maxPendingRows: 1_000,
    groupCommitMs: 1,
    retryMs: 5,
    clock: systemClock,
    write,
    isTransient: (e) => (e as { code?: string }).code === 'SQLITE_FULL',
    onCommitted: (b) => log.push(`commit ${b.map((e) => e.id).join(',')}`),
    onBurst: (failing) => log.push(failing ? 'burst start' : 'burst end'),
    onPoison: (e) => log.push(`poison ${e.id}`),
    onRefused: (e) => log.push(`refused ${e.id}`),
    onDepth: () => undefined,
  });
  q.open();
  return { q, log };
}

function settled(id: number, rows = 1): { entry: E; done: Promise<string> } {
  let entry!: E;
  const done = new Promise<string>((resolve) => {
    entry = { id, rows, settle: { resolve: () => resolve('ok'), reject: (e) => resolve((e as { code?: string }).code ?? 'err') } };
  });
  return { entry, done };
}

describe('commit queue on a full disk', () => {
  it('rejects the waiting appends (nothing acked), keeps unsettled rows, logs the burst once and recovers', async () => {
    let full = true;
    const { q, log } = queue(() => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    });
    const a = settled(1);
    const b = settled(2);
    q.push(a.entry);
    q.push({ id: 3, rows: 1 });
    q.push(b.entry);
    expect(await a.done).toBe('STORE_WRITE_FAILED');
    expect(await b.done).toBe('STORE_WRITE_FAILED');
    expect(q.healthy).toBe(false);
    full = false;
    const c = settled(4);
    q.push(c.entry);
    expect(await c.done).toBe('ok');
    expect(q.healthy).toBe(true);
    expect(log).toEqual(['burst start', 'commit 3,4', 'burst end']);
  });

  it('isolates a bad row: the others commit, the bad one alone is refused', async () => {
    const { q, log } = queue((batch) => {
      if (batch.some((e) => e.id === 2)) throw new TypeError('bad value');
    });
    const [a, b, c] = [settled(1), settled(2), settled(3)];
    q.push(a.entry);
    q.push(b.entry);
    q.push(c.entry);
    expect(await Promise.all([a.done, b.done, c.done])).toEqual(['ok', 'STORE_BAD_ROW', 'ok']);
    expect(log).toEqual(['commit 1', 'poison 2', 'commit 3']);
  });

  it('refuses past maxPendingRows', async () => {
    const { q, log } = queue(() => undefined);
    const big = settled(1, 1_001);
    q.push(big.entry);
    expect(await big.done).toBe('STORE_QUEUE_FULL');
    expect(log).toEqual(['refused 1']);
  });
});

describe('commit queue with a durable step (fsync off the event loop)', () => {
  it('settles a batch only once its commit is durable, and commits the next batch meanwhile', async () => {
    const syncs: ((error: unknown) => void)[] = [];
    const writes: number[][] = [];
    const { q, log } = queue(
      (batch) => writes.push(batch.map((e) => e.id)),
      (done) => syncs.push(done),
    );
    const a = settled(1);
    q.push(a.entry);
    await new Promise((r) => setTimeout(r, 20));
    const b = settled(2);
    q.push(b.entry);
    await new Promise((r) => setTimeout(r, 20));
    // Both committed, neither durable yet: nothing settled, nothing counted.
    expect(writes).toEqual([[1], [2]]);
    expect(log).toEqual([]);
    let bSettled = false;
    void b.done.then(() => (bSettled = true));
    syncs[0]?.(undefined);
    expect(await a.done).toBe('ok');
    expect(bSettled).toBe(false);
    syncs[1]?.(undefined);
    expect(await b.done).toBe('ok');
    expect(log).toEqual(['commit 1', 'commit 2']);
  });

  it('rejects a batch whose fsync failed, reports the burst once and recovers', async () => {
    let fail = true;
    const { q, log } = queue(
      () => undefined,
      (done) => setImmediate(() => done(fail ? Object.assign(new Error('EIO'), { code: 'EIO' }) : undefined)),
    );
    const a = settled(1);
    q.push(a.entry);
    expect(await a.done).toBe('STORE_WRITE_FAILED');
    const b = settled(2);
    q.push(b.entry);
    expect(await b.done).toBe('STORE_WRITE_FAILED');
    expect(q.healthy).toBe(false);
    fail = false;
    const c = settled(3);
    q.push(c.entry);
    expect(await c.done).toBe('ok');
    expect(q.healthy).toBe(true);
    expect(log).toEqual(['burst start', 'commit 3', 'burst end']);
  });
});
