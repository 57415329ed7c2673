import type { Clock } from '../lib/clock.js';
import { EdgeError } from '../lib/lifecycle.js';

/**
 * Bounded group-commit queue (leader/follower). When no commit is waiting for its fsync, what arrived
 * commits at once (at the end of the current event-loop turn, so a socket read's messages share it);
 * while one is waiting, what arrives gathers and commits as soon as that fsync returned, so group commit
 * costs latency only when it buys throughput. `groupCommitMs` bounds the gathering: past it (a slow
 * disk) the next commit is written anyway and shares the next fsync. A batch is cut at `maxBatchRows`.
 * Entries with a `settle` (readings, and the dead letters of QoS 1 messages: their ack waits on it)
 * resolve only after their commit is durable; on a failed commit they are rejected so nothing unstored
 * is acknowledged. Entries without one (derived rows, state) are kept and retried after a transient
 * failure.
 *
 * Overflow policy: past `maxPendingRows` an append is refused (settled entries: rejected with
 * STORE_QUEUE_FULL; others: dropped) and counted by the caller through `onRefused`.
 */
export interface QueueEntry {
  readonly rows: number;
  readonly settle?: { resolve(): void; reject(error: Error): void };
}

export interface CommitQueueOptions<E extends QueueEntry> {
  readonly maxBatchRows: number;
  readonly maxPendingRows: number;
  readonly groupCommitMs: number;
  readonly retryMs: number;
  readonly clock: Clock;
  /** Runs one transaction; throws when it did not commit. */
  write(batch: readonly E[]): void;
  /**
   * After a commit of `rows` rows, makes it durable (an fsync: in place for a small commit on a fast
   * disk, else off the event loop) and calls back, possibly before returning; the batch settles then,
   * and the next commit may run meanwhile. Without it a batch settles as soon as it committed.
   */
  durable?(rows: number, done: (error: unknown) => void): void;
  isTransient(error: unknown): boolean;
  /** A batch committed and is durable; `seconds` from the start of its commit. */
  onCommitted(batch: readonly E[], rows: number, seconds: number): void;
  /** First failure of a burst (true) and the first success after it (false), for one log line each. */
  onBurst(failing: boolean, error: unknown): void;
  /** An entry that failed on its own (a bad row, not the disk): it is dropped or rejected. */
  onPoison(entry: E, error: unknown): void;
  onRefused(entry: E): void;
  onDepth(rows: number): void;
}

export class CommitQueue<E extends QueueEntry> {
  private entries: E[] = [];
  private pendingRows = 0;
  /** Commits written whose durable step has not returned yet. */
  private inFlight = 0;
  private wait: { clear(): void } | undefined;
  private retry: { clear(): void } | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private failing = false;
  private syncFailing = false;
  private ready = false;

  constructor(private readonly opts: CommitQueueOptions<E>) {}

  get depth(): number {
    return this.pendingRows;
  }

  get healthy(): boolean {
    return !this.failing && !this.syncFailing;
  }

  /** Writes may start (the database is open). */
  open(): void {
    this.ready = true;
    this.schedule();
  }

  close(): void {
    this.ready = false;
    this.cancel();
  }

  push(entry: E): boolean {
    if (this.pendingRows + entry.rows > this.opts.maxPendingRows) {
      this.opts.onRefused(entry);
      entry.settle?.reject(new EdgeError('STORE_QUEUE_FULL', `store queue full (${this.pendingRows} rows pending)`));
      return false;
    }
    this.entries.push(entry);
    this.pendingRows += entry.rows;
    this.opts.onDepth(this.pendingRows);
    this.schedule();
    return true;
  }

  /** Commits everything queued now, batch by batch (stop() and tests). */
  drain(): void {
    this.cancel();
    while (this.entries.length > 0) {
      if (!this.commitOne()) break;
    }
  }

  /** Rejects every settled entry still queued (after a failed final drain). */
  rejectAll(error: Error): void {
    for (const e of this.entries) e.settle?.reject(error);
    this.entries = [];
    this.pendingRows = 0;
    this.opts.onDepth(0);
  }

  private cancel(): void {
    this.wait?.clear();
    this.wait = undefined;
    this.retry?.clear();
    this.retry = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  /** Leader: commit at the end of this turn. Follower: wait for the running commit's fsync (bounded). */
  private schedule(): void {
    if (!this.ready || this.entries.length === 0 || this.immediate || this.retry) return;
    if (this.inFlight === 0 || this.pendingRows >= this.opts.maxBatchRows || this.opts.groupCommitMs <= 0) {
      this.wait?.clear();
      this.wait = undefined;
      this.immediate = setImmediate(this.tick);
    } else {
      this.wait ??= this.opts.clock.setTimeout(this.tick, this.opts.groupCommitMs);
    }
  }

  private readonly tick = (): void => {
    this.cancel();
    if (!this.ready) return;
    if (this.commitOne()) this.schedule();
    else this.retry = this.opts.clock.setTimeout(this.tick, this.opts.retryMs);
  };

  private take(): E[] {
    let count = 0;
    let rows = 0;
    for (const next of this.entries) {
      if (count > 0 && rows + next.rows > this.opts.maxBatchRows) break;
      rows += next.rows;
      count += 1;
    }
    const batch = count === this.entries.length ? this.entries : this.entries.splice(0, count);
    if (batch === this.entries) this.entries = [];
    this.pendingRows -= rows;
    return batch;
  }

  /** One group commit; false when the disk refused it (retry later). */
  private commitOne(): boolean {
    const batch = this.take();
    if (batch.length === 0) return true;
    let rows = 0;
    for (const e of batch) rows += e.rows;
    const started = performance.now();
    try {
      this.opts.write(batch);
    } catch (error) {
      return this.recover(batch, error);
    } finally {
      this.opts.onDepth(this.pendingRows);
    }
    this.committed(batch, rows, started);
    if (this.failing) {
      this.failing = false;
      this.opts.onBurst(false, undefined);
    }
    return true;
  }

  private committed(batch: E[], rows: number, started: number): void {
    const durable = this.opts.durable;
    if (!durable) {
      this.opts.onCommitted(batch, rows, (performance.now() - started) / 1000);
      for (const e of batch) e.settle?.resolve();
      return;
    }
    this.inFlight += 1;
    durable(rows, (error) => {
      this.inFlight -= 1;
      if (error === undefined) {
        this.opts.onCommitted(batch, rows, (performance.now() - started) / 1000);
        for (const e of batch) e.settle?.resolve();
        if (this.syncFailing) {
          this.syncFailing = false;
          this.opts.onBurst(false, undefined);
        }
      } else {
        // Committed but not known to be on disk: not acknowledged; a resent reading is ignored by its key.
        if (!this.syncFailing) {
          this.syncFailing = true;
          this.opts.onBurst(true, error);
        }
        const err = new EdgeError('STORE_WRITE_FAILED', `store fsync failed: ${error instanceof Error ? error.message : String(error)}`);
        for (const e of batch) e.settle?.reject(err);
      }
      // The followers that gathered meanwhile commit now.
      this.schedule();
    });
  }
  private recover(batch: E[], error: unknown): boolean {
    if (this.opts.isTransient(error)) {
      if (!this.failing) {
        this.failing = true;
        this.opts.onBurst(true, error);
      }
      const err = new EdgeError('STORE_WRITE_FAILED', `store write failed: ${error instanceof Error ? error.message : String(error)}`);
      const keep: E[] = [];
      for (const e of batch) {
        if (e.settle) e.settle.reject(err);
        else keep.push(e);
      }
      this.entries.unshift(...keep);
      this.pendingRows += keep.reduce((n, e) => n + e.rows, 0);
      return false;
    }
    // Not the disk: find the entry at fault by committing each alone.
    for (const [i, e] of batch.entries()) {
      try {
        const started = performance.now();
        this.opts.write([e]);
        this.committed([e], e.rows, started);
      } catch (single) {
        if (this.opts.isTransient(single)) return this.recover(batch.slice(i), single);
        this.opts.onPoison(e, single);
        e.settle?.reject(new EdgeError('STORE_BAD_ROW', `row refused by the store: ${single instanceof Error ? single.message : String(single)}`));
      }
    }
    return true;
  }
}
