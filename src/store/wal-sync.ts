import { close, closeSync, fdatasync, fstatSync, open } from 'node:fs';

/**
 * Makes group commits durable off the event loop. The group-commit transaction runs with
 * `synchronous = NORMAL` (its frames are written to the WAL but not flushed); this then fsyncs the WAL
 * file on the libuv thread pool, which is the flush `synchronous = FULL` would have done inside the
 * commit, on the main thread. The commit's entries (and their QoS 1 acks) settle only after it.
 *
 * One fsync at a time: commits that finish while one runs share the next (fsync covers every frame
 * written before it starts), so under load there are fewer fsyncs than commits. Checkpoints stay
 * safe: in NORMAL mode SQLite itself syncs the WAL before a checkpoint and the database after it.
 */
export class WalSync {
  private waiting: ((error: unknown) => void)[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private syncs = 0;
  private fd: number | undefined;

  /** Only the WAL file is opened here, never the database file: closing a descriptor of a file drops
   * every POSIX lock the process holds on it, SQLite's included (SQLite takes none on the WAL file). */
  constructor(private readonly walPath: string) {}

  /** fsyncs done so far. */
  get count(): number {
    return this.syncs;
  }

  /** Calls `done` once everything committed before this call is on disk (or with the error). */
  request(done: (error: unknown) => void): void {
    this.waiting.push(done);
    if (!this.running) void this.run();
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
