import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../lib/logger.js';

/** SQLite's own default: a checkpoint once the WAL holds this many pages. */
export const AUTOCHECKPOINT_PAGES = 1000;

/**
 * The worker: its own connection to the same file, running a PASSIVE checkpoint on request (WAL mode
 * lets it copy committed frames while the daemon keeps writing). Plain JavaScript so that it runs the
 * same from the compiled daemon, tsx and the test runner.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = FULL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true });
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error) });
  }
});
`;

interface CheckpointReply {
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit crosses
 * the threshold, so that commit (and the plant window waiting behind it) would pay for copying the WAL
 * into the database and two fsyncs. The daemon's connection turns it off while this worker is healthy;
 * if the worker fails, `onFailure` turns it back on, so the WAL never grows without bound.
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
  ) {}

  start(): void {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, path: this.path } });
    worker.unref();
    worker.on('message', (reply: CheckpointReply) => {
      this.busy = false;
      if (!reply.ok) this.log.warn({ err: reply.error }, 'WAL checkpoint failed; next one in the usual interval');
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`checkpoint worker exited with ${code}`));
    });
    this.worker = worker;
    this.timer = setInterval(() => this.request(), this.everyMs);
    this.timer.unref();
  }

  private request(): void {
    if (this.busy || !this.worker) return;
    this.busy = true;
    this.worker.postMessage('checkpoint');
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
    this.timer = undefined;
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
