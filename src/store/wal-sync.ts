import { close, closeSync, fdatasync, fdatasyncSync, fstatSync, open } from 'node:fs';

/**
 * A commit of at most this many rows is fsynced in place, on the event loop, while the disk is fast:
 * handing an fsync to the thread pool and back wakes two threads, which on a small VM costs about as
 * much as a fast fsync itself (0.1 ms or more of latency and of CPU per commit, far more when the cores
 * are busy and the woken thread waits for one). That is a lone PLC's commit (one reading, or the half
 * of its window that arrived together). A larger commit means many publishers: it is fsynced on the
 * thread pool, where the hand-off is a few µs per row and the event loop reads and gathers the next
 * commit meanwhile instead of waiting for the disk.
 */
export const INLINE_FSYNC_ROWS = 16;
/** The disk counts as fast while the moving average of the in-place fsyncs is under this. */
export const INLINE_FSYNC_MS = 1;
/** Weight of the newest in-place fsync in that average. */
const RECENT_WEIGHT = 0.25;
/** While the disk is slow, one small commit is fsynced in place again after this, then twice as long up to the maximum. */
const PROBE_FIRST_MS = 100;
const PROBE_MAX_MS = 5_000;

export interface WalSyncOptions {
  /** Commits of at most this many rows may be fsynced in place (0: never, always on the thread pool). */
  readonly inlineRows?: number;
  readonly inlineBelowMs?: number;
}

/**
 * Makes group commits durable. The group-commit transaction runs with `synchronous = NORMAL` (its
 * frames are written to the WAL but not flushed); this then fdatasyncs the WAL file, which is the flush
 * `synchronous = FULL` would have done inside the commit. The commit's entries (and their QoS 1 acks)
 * settle only after it. A small commit on a fast disk is fsynced at once, in place (INLINE_FSYNC_ROWS,
 * INLINE_FSYNC_MS); any other on the libuv thread pool, off the event loop, and the commits that finish
 * while it runs share the next one (fsync covers every frame written before it starts), so under load
 * there are fewer fsyncs than commits. A disk that turned slow (its in-place fsyncs averaging
 * INLINE_FSYNC_MS or more) is fsynced on the thread pool only, and tried in place again now and then, so
 * it never holds the event loop for long. Checkpoints stay safe: in NORMAL mode SQLite itself syncs the
 * WAL before a checkpoint and the database after it.
 */
export class WalSync {
  private waiting: ((error: unknown) => void)[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private syncs = 0;
  private inlineSyncs = 0;
  private fd: number | undefined;
  /** Moving average of the in-place fsyncs' durations, ms. */
  private recentMs = 0;
  /** While the disk is slow: when (performance.now()) a small commit is fsynced in place again, and the wait after that. */
  private probeAt = 0;
  private probeMs = PROBE_FIRST_MS;
  private readonly inlineRows: number;
  private readonly inlineBelowMs: number;

  /** Only the WAL file is opened here, never the database file: closing a descriptor of a file drops
   * every POSIX lock the process holds on it, SQLite's included (SQLite takes none on the WAL file). */
  constructor(
    private readonly walPath: string,
    options: WalSyncOptions = {},
  ) {
    this.inlineRows = options.inlineRows ?? INLINE_FSYNC_ROWS;
    this.inlineBelowMs = options.inlineBelowMs ?? INLINE_FSYNC_MS;
  }

  /** fsyncs done so far. */
  get count(): number {
    return this.syncs;
  }

  /** Of those, the ones done in place on the event loop. */
  get inlineCount(): number {
    return this.inlineSyncs;
  }

  /**
   * Calls `done` once everything committed before this call (a commit of `rows` rows the last) is on
   * disk, or with the error: before returning when the fsync is done in place.
   */
  request(rows: number, done: (error: unknown) => void): void {
    if (!this.running && rows <= this.inlineRows && this.diskFast() && this.syncInPlace(done)) return;
    this.waiting.push(done);
    if (!this.running) void this.run();
  }

  private diskFast(): boolean {
    if (this.recentMs < this.inlineBelowMs) return true;
    const now = performance.now();
    if (now < this.probeAt) return false;
    // A probe: its duration decides; if still slow, the next one waits twice as long.
    this.probeAt = now + this.probeMs;
    this.probeMs = Math.min(PROBE_MAX_MS, this.probeMs * 2);
    this.recentMs = 0;
    return true;
  }

  /** false when the kept descriptor is not usable (first fsync, replaced WAL): the thread pool opens it. */
  private syncInPlace(done: (error: unknown) => void): boolean {
    const fd = this.fd;
    if (fd === undefined || !linked(fd)) return false;
    const started = performance.now();
    let failure: unknown;
    try {
      fdatasyncSync(fd);
      this.syncs += 1;
      this.inlineSyncs += 1;
    } catch (error) {
      failure = error ?? new Error('fsync failed');
    }
    const ms = performance.now() - started;
    if (this.recentMs === 0 && ms >= this.inlineBelowMs) this.recentMs = ms;
    else this.recentMs += RECENT_WEIGHT * (ms - this.recentMs);
    if (this.recentMs < this.inlineBelowMs) this.probeMs = PROBE_FIRST_MS;
    done(failure);
    return true;
  }

  /** Resolves when no fsync is running or waiting. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      let failure: unknown;
      try {
        await this.fsync();
        this.syncs += 1;
      } catch (error) {
        failure = error ?? new Error('fsync failed');
      }
      for (const done of group) done(failure);
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Closes the descriptor kept for the WAL (after the last fsync, before the database closes). */
  async close(): Promise<void> {
    await this.idle();
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve) => close(fd, () => resolve()));
  }

  private fsync(): Promise<void> {
    return new Promise((resolve, reject) => {
      // fdatasync, as SQLite's own FULL sync of the WAL: the frames and the file size, not the times.
      const sync = (fd: number): void => fdatasync(fd, (error) => (error ? reject(error) : resolve()));
      let fd = this.fd;
      // The kept descriptor must still name the WAL file SQLite writes (it is only ever deleted when the
      // last connection closes): a deleted file has no links left. Checked in place (a stat of an open
      // descriptor does no I/O), so a commit waits for one thread-pool round trip, not two.
      if (fd !== undefined && !linked(fd)) {
        closeSync(fd);
        this.fd = fd = undefined;
      }
      if (fd !== undefined) return sync(fd);
      open(this.walPath, 'r+', (error, opened) => {
        // In WAL mode a commit always leaves a WAL file: without one nothing is known to be on disk.
        if (error) return reject(error);
        this.fd = opened;
        sync(opened);
      });
    });
  }
}

function linked(fd: number): boolean {
  try {
    return fstatSync(fd).nlink > 0;
  } catch {
    return false;
  }
}
