import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { CommitQueue, type QueueEntry } from '../../src/store/commit-queue.js';

type E = QueueEntry & { id: number };

function queue(write: (batch: readonly E[]) => void, durable?: (done: (error: unknown) => void, rows: number) => void, options: { groupCommitMs?: number; clock?: Clock } = {}) {
  const log: string[] = [];
  const q = new CommitQueue<E>({
    ...(durable ? { durable: (rows: number, done: (error: unknown) => void) => durable(done, rows) } : {}),
    maxBatchRows: 100,
    maxPendingRows: 1_000,
    groupCommitMs: options.groupCommitMs ?? 1,
    retryMs: 5,
    clock: options.clock ?? systemClock,
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

  it('takes a durable step that calls back before returning (an fsync in place): each commit settles after it, the next commits at once', async () => {
    const writes: number[][] = [];
    const rows: number[] = [];
    const { q, log } = queue(
      (batch) => writes.push(batch.map((e) => e.id)),
      (done, n) => {
        rows.push(n);
        done(undefined);
      },
    );
    const a = settled(1, 3);
    q.push(a.entry);
    expect(await a.done).toBe('ok');
    const b = settled(2);
    const c = settled(3);
    q.push(b.entry);
    q.push(c.entry);
    expect(await Promise.all([b.done, c.done])).toEqual(['ok', 'ok']);
    expect(writes).toEqual([[1], [2, 3]]);
    expect(rows).toEqual([3, 2]);
    expect(log).toEqual(['commit 1', 'commit 2,3']);
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

/** A clock whose timers run only when the test says so. */
function manualClock(): Clock & { fire(): void; pending(): number } {
  let timers: (() => void)[] = [];
  return {
    now: () => 0,
    setTimeout(fn) {
      timers.push(fn);
      return { clear: () => (timers = timers.filter((t) => t !== fn)) };
    },
    setInterval() {
      throw new Error('not used');
    },
    fire() {
      const due = timers;
      timers = [];
      for (const t of due) t();
    },
    pending: () => timers.length,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('commit queue: leader/follower group commit', () => {
  it('commits at once when no commit is waiting for its fsync: no fixed wait', async () => {
    const clock = manualClock();
    const writes: number[][] = [];
    const { q } = queue((batch) => writes.push(batch.map((e) => e.id)), (done) => setImmediate(() => done(undefined)), { groupCommitMs: 5, clock });
    const a = settled(1);
    q.push(a.entry);
    // No timer fired: the entry committed within the turn and settled after its fsync.
    expect(await a.done).toBe('ok');
    expect(writes).toEqual([[1]]);
    expect(clock.pending()).toBe(0);
  });

  it('gathers what arrives while a commit waits for its fsync into the next commit, written when that fsync returns', async () => {
    const clock = manualClock();
    const syncs: ((error: unknown) => void)[] = [];
    const writes: number[][] = [];
    const { q } = queue((batch) => writes.push(batch.map((e) => e.id)), (done) => syncs.push(done), { groupCommitMs: 5, clock });
    const entries = [1, 2, 3, 4].map((id) => settled(id));
    q.push(entries[0]!.entry);
    await turn();
    expect(writes).toEqual([[1]]);
    for (const e of entries.slice(1)) q.push(e.entry);
    await turn();
    await turn();
    // Followers wait for the leader's fsync (bounded by groupCommitMs on the injected clock).
    expect(writes).toEqual([[1]]);
    expect(clock.pending()).toBe(1);
    syncs[0]?.(undefined);
    expect(await entries[0]!.done).toBe('ok');
    await turn();
    expect(writes).toEqual([[1], [2, 3, 4]]);
    expect(clock.pending()).toBe(0);
    syncs[1]?.(undefined);
    expect(await Promise.all(entries.slice(1).map((e) => e.done))).toEqual(['ok', 'ok', 'ok']);
  });

  it('writes the followers after groupCommitMs when the fsync is slow; they settle only after their own fsync', async () => {
    const clock = manualClock();
    const syncs: ((error: unknown) => void)[] = [];
    const writes: number[][] = [];
    const { q } = queue((batch) => writes.push(batch.map((e) => e.id)), (done) => syncs.push(done), { groupCommitMs: 5, clock });
    const [a, b] = [settled(1), settled(2)];
    q.push(a.entry);
    await turn();
    q.push(b.entry);
    await turn();
    expect(writes).toEqual([[1]]);
    clock.fire();
    expect(writes).toEqual([[1], [2]]);
    let bDone = false;
    void b.done.then(() => (bDone = true));
    syncs[0]?.(undefined);
    expect(await a.done).toBe('ok');
    await turn();
    expect(bDone).toBe(false);
    syncs[1]?.(undefined);
    expect(await b.done).toBe('ok');
  });

  it('cuts a batch at maxBatchRows and writes full batches at once, without waiting for the fsync', async () => {
    const clock = manualClock();
    const syncs: ((error: unknown) => void)[] = [];
    const writes: number[][] = [];
    const { q } = queue((batch) => writes.push(batch.map((e) => e.id)), (done) => syncs.push(done), { groupCommitMs: 5, clock });
    q.push({ id: 1, rows: 1 });
    await turn();
    q.push({ id: 2, rows: 60 });
    q.push({ id: 3, rows: 60 });
    q.push({ id: 4, rows: 60 });
    await turn();
    await turn();
    // 180 rows waiting pass maxBatchRows (100): two batches go without waiting; the last 60 wait.
    expect(writes).toEqual([[1], [2], [3]]);
    expect(clock.pending()).toBe(1);
    // They go once no commit waits for its fsync any more.
    for (const s of syncs.splice(0)) s(undefined);
    await turn();
    expect(writes).toEqual([[1], [2], [3], [4]]);
    for (const s of syncs) s(undefined);
  });
});
