import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { EdgeConfig } from '../config/schema.js';
import { childEntryArgs } from '../lib/child-entry.js';
import type { ReportFormat } from './index.js';

/** Nice level of the report child: the daemon's ingest and windows come first. */
const NICE = 10;
const MAX_HEAP_MB = 512;
const TIMEOUT_MS = 10 * 60_000;
const CONTENT_TYPES: Record<ReportFormat, string> = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', html: 'text/html; charset=utf-8' };

/**
 * The daily report computed in a child process (at a lower priority, with a heap of its own) from the
 * store file, as the daemon serves it over HTTP: a day of one-second readings is seconds of CPU that
 * the daemon's event loop, acknowledging a PLC's readings one commit at a time, must not spend.
 */
export function reportInChild(config: Readonly<EdgeConfig>, day: string, format: ReportFormat): Promise<{ body: string; contentType: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childEntryArgs(import.meta.url, './worker', MAX_HEAP_MB), { stdio: ['pipe', 'pipe', 'pipe'], env: process.env });
    try {
      if (child.pid !== undefined) setPriority(child.pid, NICE);
    } catch {
      // not permitted here: the child runs at the daemon's priority
    }
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4096)));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    timer.unref();
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ body: Buffer.concat(out).toString('utf8'), contentType: CONTENT_TYPES[format] });
      else reject(new Error(`report child ${signal ? `killed by ${signal}` : `exited ${code}`}: ${err.trim().split('\n').pop() ?? ''}`));
    });
    child.stdin.end(JSON.stringify({ storePath: config.storage.path, config, day, format }));
  });
}
