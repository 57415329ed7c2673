import { loadConfig } from '../config/load.js';
import { systemClock } from '../lib/clock.js';
import { createLogger } from '../lib/logger.js';
import { createMetrics } from '../lib/metrics.js';
import { createProgress } from '../lib/progress.js';
import { createStore } from '../store/index.js';
import { createSync } from '../sync/index.js';
import mariadb from 'mariadb';
import { connectionOptions } from '../sync/index.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/**
 * `wwtp-edge sync status | now`: works on the store file beside a running daemon (SQLite WAL allows
 * it) or while it is stopped; cursors only move forward, so both may sync without duplicates.
 */
export async function syncCommand(action: 'status' | 'now', opts: { config?: string }, io: CliIo): Promise<ExitCode> {
  const config = loadConfig({ file: opts.config, env: io.env });
  if (action === 'now' && !config.sync.enabled) throw new UsageError('sync is not enabled (sync.enabled: false); set sync.enabled: true and sync.mariadb.url in the config');
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
    // What `now` just did says whether the central server answers; `status` asks it.
    const reach = action === 'now' ? { ok: status.connected, error: status.lastError } : await probe(config.sync.mariadb);
    io.stdout.write(
      `central ${redact(config.sync.mariadb.url)}: ${reach.ok ? 'reachable' : `unreachable${reach.error ? ` (${reach.error})` : ''}`}${config.sync.enabled ? '' : '; sync.enabled is false: the daemon does not sync'}\n`,
    );
    const now = Date.now();
    for (const [table, t] of Object.entries(status.tables)) {
      const lag = t.pending === 0 ? 'caught up' : t.caughtUpAt === undefined ? 'never caught up' : `lag ${Math.round((now - t.caughtUpAt) / 1000)} s`;
      io.stdout.write(`${table.padEnd(16)} pending ${String(t.pending).padStart(9)}  ${lag.padEnd(16)}  cursor ${t.cursor}\n`);
    }
    return status.lastError && action === 'now' ? 1 : 0;
  } finally {
    await sync.stop();
    await store.stop();
  }
}

async function probe(config: Parameters<typeof connectionOptions>[0]): Promise<{ ok: boolean; error?: string }> {
  try {
    const connection = await mariadb.createConnection({ ...connectionOptions(config), connectTimeout: Math.min(config.connectTimeoutMs, 5_000) });
    await connection.end();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
