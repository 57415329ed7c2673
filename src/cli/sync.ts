import { loadConfig } from '../config/load.js';
import { systemClock } from '../lib/clock.js';
import { createLogger } from '../lib/logger.js';
import { createMetrics } from '../lib/metrics.js';
import { createProgress } from '../lib/progress.js';
import { createStore } from '../store/index.js';
import { createSync } from '../sync/index.js';
import type { CliIo, ExitCode } from './io.js';

/**
 * `wwtp-edge sync status | now`: works on the store file beside a running daemon (SQLite WAL allows
 * it) or while it is stopped; cursors only move forward, so both may sync without duplicates.
 */
export async function syncCommand(action: 'status' | 'now', opts: { config?: string }, io: CliIo): Promise<ExitCode> {
  const config = loadConfig({ file: opts.config, env: io.env });
  const logger = createLogger('warn');
  const metrics = createMetrics(false);
  const store = createStore(config.storage, { site: config.site, logger, metrics, clock: systemClock, syncEnabled: true });
  await store.start(io.signal);
  const sync = createSync(config.sync, { site: config.site, store, logger, metrics, clock: systemClock });
  try {
    if (action === 'now') {
      const progress = createProgress('sync rows', io.stderr);
      const rows = await sync.syncNow((done, total) => progress.update(done, total));
      progress.stop();
      io.stdout.write(`synced ${rows} rows to ${redact(config.sync.mariadb.url)}\n`);
    }
    const status = sync.status();
    io.stdout.write(`central ${redact(config.sync.mariadb.url)}: ${status.connected ? 'connected' : 'not connected'}${status.lastError ? ` (${status.lastError})` : ''}\n`);
    for (const [table, t] of Object.entries(status.tables)) {
      io.stdout.write(`${table.padEnd(13)} pending ${String(t.pending).padStart(9)}  lag ${Math.round(t.lagSec)} s  cursor ${t.cursor}\n`);
    }
    return status.lastError && action === 'now' ? 1 : 0;
  } finally {
    await sync.stop();
    await store.stop();
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
