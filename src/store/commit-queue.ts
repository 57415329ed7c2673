import type { Clock } from '../lib/clock.js';
import { EdgeError } from '../lib/lifecycle.js';

/**
 * Bounded group-commit queue. Entries wait until `maxBatchRows` rows are queued or `groupCommitMs`
 * passed, then one `write(batch)` (one SQLite transaction) commits them all. Entries with a `settle`
 * (readings: the QoS 1 ack waits on it) resolve only after that commit; on a failed commit they are
 * rejected so nothing unstored is acknowledged. Entries without one (dead letters, derived rows) are
 * kept and retried after a transient failure.
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
   * After a commit, makes it durable (an fsync off the event loop) and calls back; the batch settles
   * then, and the next commit may run meanwhile. Without it a batch settles as soon as it committed.
   */
  durable?(done: (error: unknown) => void): void;
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
  private timer: { clear(): void } | undefined;
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
    this.timer?.clear();
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private schedule(delayMs?: number): void {
    if (!this.ready || this.entries.length === 0) return;
    if (delayMs !== undefined) {
      this.cancel();
      this.timer = this.opts.clock.setTimeout(() => this.tick(), delayMs);
      return;
    }
    if (this.immediate || (this.timer && this.failing)) return;
    if (this.pendingRows >= this.opts.maxBatchRows || this.opts.groupCommitMs <= 0) {
      this.timer?.clear();
      this.timer = undefined;
      this.immediate = setImmediate(() => this.tick());
    } else if (!this.timer) {
      this.timer = this.opts.clock.setTimeout(() => this.tick(), this.opts.groupCommitMs);
    }
  }

  private tick(): void {
    this.timer = undefined;
    this.immediate = undefined;
    if (!this.ready) return;
    if (this.commitOne()) this.schedule();
    else this.schedule(this.opts.retryMs);
  }

  private take(): E[] {
    const batch: E[] = [];
    let rows = 0;
    while (this.entries.length > 0) {
      const next = this.entries[0];
      if (!next || (batch.length > 0 && rows + next.rows > this.opts.maxBatchRows)) break;
      batch.push(next);
      rows += next.rows;
      this.entries.shift();
    }
    this.pendingRows -= rows;
    return batch;
  }

  /** One group commit; false when the disk refused it (retry later). */
  private commitOne(): boolean {
    const batch = this.take();
    if (batch.length === 0) return true;
    const rows = batch.reduce((n, e) => n + e.rows, 0);
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
    durable((error) => {
      if (error === undefined) {
        this.opts.onCommitted(batch, rows, (performance.now() - started) / 1000);
        for (const e of batch) e.settle?.resolve();
        if (this.syncFailing) {
          this.syncFailing = false;
          this.opts.onBurst(false, undefined);
        }
        return;
      }
      // Committed but not known to be on disk: not acknowledged; a resent reading is ignored by its key.
      if (!this.syncFailing) {
        this.syncFailing = true;
        this.opts.onBurst(true, error);
      }
      const err = new EdgeError('STORE_WRITE_FAILED', `store fsync failed: ${error instanceof Error ? error.message : String(error)}`);
      for (const e of batch) e.settle?.reject(err);
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
