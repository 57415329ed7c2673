import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../lib/logger.js';

/** SQLite's own default: a checkpoint once the WAL holds this many pages. */
export const AUTOCHECKPOINT_PAGES = 1000;

/** How often the WAL file's size is looked at against its limit. */
export const WAL_WATCH_MS = 25;

/**
 * The worker: its own connection to the same file, running a checkpoint on request. PASSIVE (WAL mode
 * lets it copy committed frames while the daemon keeps writing); then RESTART once the WAL holds
 * `restartBytes` of frames, so that the daemon's next commit writes the WAL from its start again, over
 * blocks the file already has (an fdatasync of a file that grows also writes its new size and blocks:
 * about twice the time and CPU of one that overwrites); TRUNCATE when the WAL file passed its limit
 * anyway (a reader kept the WAL from starting over). A PASSIVE pass first copies the bulk without
 * blocking anyone, then RESTART or TRUNCATE holds the daemon's next commit only while it copies the last
 * frames and syncs. Plain JavaScript so that it runs the same from the compiled daemon, tsx and the
 * test runner.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
const frameBytes = (db.pragma('page_size', { simple: true }) || 4096) + 24;
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [pass] = db.pragma('wal_checkpoint(PASSIVE)');
    // Frames the WAL holds since it last started over (its file may be larger: it is reused).
    const used = pass && pass.log > 0 ? pass.log * frameBytes : 0;
    const mode = message === 'truncate' ? 'TRUNCATE' : used >= workerData.restartBytes ? 'RESTART' : undefined;
    let busy = false;
    if (mode) {
      // Both hold the write lock while they wait for readers: never longer than a few ms.
      db.pragma('busy_timeout = ' + workerData.truncateWaitMs);
      try {
        busy = db.pragma('wal_checkpoint(' + mode + ')')[0].busy !== 0;
      } finally {
        db.pragma('busy_timeout = 1000');
      }
    }
    parentPort.postMessage({ ok: true, busy, restarted: mode === 'RESTART' && !busy });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error) });
  }
});
`;

interface CheckpointReply {
  readonly ok: boolean;
  /** A truncating or restarting checkpoint gave up: a reader (another process) still used the WAL. */
  readonly busy?: boolean;
  /** The WAL starts over at the next commit. */
  readonly restarted?: boolean;
  readonly error?: string;
}

/**
 * How much of the WAL is written before it starts over: 8 MiB (at most a quarter of its limit). At the
 * heaviest small-commit load (one reading per commit, a few thousand commits a second, two pages each)
 * that is a restart every quarter second; the checkpoint copies each page once, however often the WAL
 * holds it.
 */
export const RESTART_BYTES = 8 * 1_048_576;

/** How long a truncating checkpoint waits for the daemon's commit and for readers, holding the write lock. */
export const TRUNCATE_WAIT_MS = 10;
/** After a truncating checkpoint gave up for a reader, the next one waits this long. */
export const TRUNCATE_BACKOFF_MS = 1_000;

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit crosses
 * the threshold, so that commit (and the plant window waiting behind it) would pay for copying the WAL
 * into the database and two fsyncs. The daemon's connection turns it off while this worker is healthy;
 * if the worker fails, `onFailure` turns it back on, so the WAL never grows without bound.
 *
 * Under steady ingest SQLite never finds the WAL fully copied at the start of a commit, so after PASSIVE
 * checkpoints alone the WAL would never start over and its file would only grow: the worker lets it
 * start over (RESTART) once it holds RESTART_BYTES, and the file keeps that size, its blocks overwritten
 * commit after commit. With `walLimitBytes`, the file's size is also watched every WAL_WATCH_MS and a
 * truncating checkpoint runs once it passes half the limit (a reader kept the WAL from starting over, or
 * a burst outran the checkpoints): the WAL then stays within its limit unless the daemon writes more than
 * half of it while one truncating checkpoint runs (docs/storage.md).
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly everyMs: number,
    private readonly log: Logger,
    private readonly onFailure: () => void,
    private readonly walLimitBytes?: number,
  ) {}
  private watch: NodeJS.Timeout | undefined;
  private truncateAfter = 0;
  /** Truncating checkpoints run (tests, metrics). */
  truncations = 0;
  /** Checkpoints that let the WAL start over at its beginning (tests). */
  restarts = 0;
  /** Checkpoints answered by the worker, of any kind (tests). */
  passes = 0;

  start(): void {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const restartBytes = Math.min(RESTART_BYTES, (this.walLimitBytes ?? Infinity) / 4);
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: this.path, truncateWaitMs: TRUNCATE_WAIT_MS, restartBytes } });
    worker.unref();
    worker.on('message', (reply: CheckpointReply) => {
      this.busy = false;
      this.passes += 1;
      if (reply.restarted) this.restarts += 1;
      // A reader holds an old snapshot (a backup, a training run on the file): leave it in peace a while.
      if (reply.busy) this.truncateAfter = Date.now() + TRUNCATE_BACKOFF_MS;
      if (!reply.ok) this.log.warn({ err: reply.error }, 'WAL checkpoint failed; next one in the usual interval');
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`checkpoint worker exited with ${code}`));
    });
    this.worker = worker;
    this.timer = setInterval(() => this.request('passive'), this.everyMs);
    this.timer.unref();
    const limit = this.walLimitBytes;
    if (limit !== undefined) {
      this.watch = setInterval(() => {
        // At half the limit, so that what arrives while the checkpoint runs still fits under it.
        if (!this.busy && Date.now() >= this.truncateAfter && walSize(`${this.path}-wal`) > limit / 2) this.request('truncate');
      }, WAL_WATCH_MS);
      this.watch.unref();
    }
  }

  private request(mode: 'passive' | 'truncate'): void {
    if (this.busy || !this.worker) return;
    this.busy = true;
    if (mode === 'truncate') this.truncations += 1;
    this.worker.postMessage(mode);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.log.error({ err: error.message }, 'checkpoint worker failed; the daemon checkpoints in its own commits again');
    this.stopTimer();
    this.worker = undefined;
    this.closed = true;
    this.onFailure();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.watch) clearInterval(this.watch);
    this.timer = undefined;
    this.watch = undefined;
  }

  /** Waits for a running checkpoint and closes the worker's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    // Held (ref'd) while it closes: an unref'd worker would let the process end with this still pending.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)));
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await worker.terminate();
  }
}

function walSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
