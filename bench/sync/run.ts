/**
 * Sync and store benchmark: `npx tsx bench/sync/run.ts`
 *  1. group commit: readings/s appended and committed in-process, synchronous=FULL vs NORMAL;
 *  2. rows/s into MariaDB (batch() of idempotent inserts, default batchRows);
 *  3. time to catch up a 24 h outage backlog at the default config's nominal rates.
 * Needs MariaDB at 127.0.0.1:3306 (root, no password, database `test`); writes docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mariadb from 'mariadb';
import { writeReportSection } from '../../eval/lib/report.js';
import { loadConfig } from '../../src/config/load.js';
import { STAGES } from '../../src/contract/plant.js';
import type { Reading } from '../../src/contract/reading.js';
import type { WindowRow } from '../../src/contract/rows.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createStore, type Store } from '../../src/store/index.js';
import { createSync } from '../../src/sync/index.js';

const config = loadConfig();
const site = `bench-${process.pid}`;
const prefix = `bench_${process.pid}_`;
const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-sync-'));
const ctx = () => ({ site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: true });
const signal = new AbortController().signal;

function syntheticReadings(start: number, count: number, t0: number): Reading[] {
  const out: Reading[] = [];
  for (let i = start; i < start + count; i++) {
    out.push({ stage: STAGES[i % 9] ?? 'influent', signal: `sig${i % 64}`, ts: t0 + Math.floor(i / 64) * 1000, value: Math.sin(i), quality: 'good', receivedAt: t0 });
  }
  return out;
}

// The store's ctx metrics are private to it; read them back through prom-client's JSON.
const metricsByStore = new WeakMap<Store, ReturnType<typeof createMetrics>>();
async function store_metrics(store: Store): Promise<{ commits: number; avgBatch: number; p50ms: number }> {
  const m = metricsByStore.get(store);
  if (!m) return { commits: 0, avgBatch: 0, p50ms: 0 };
  const batch = (await m.commitBatch.get()).values;
  const count = batch.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value ?? 0;
  const sum = batch.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
  const lat = (await m.commitSeconds.get()).values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_bucket'));
  const p50 = lat.find((v) => v.value >= count / 2)?.labels.le;
  return { commits: count, avgBatch: count ? sum / count : 0, p50ms: typeof p50 === 'number' ? p50 * 1000 : Number(p50 ?? 0) * 1000 };
}

async function openFilled(name: string, fill: (store: Store) => Promise<void>): Promise<Store> {
  const metrics = createMetrics(false);
  const store = createStore({ ...config.storage, path: join(dir, `${name}.sqlite`) }, { ...ctx(), metrics });
  metricsByStore.set(store, metrics);
  await store.start(signal);
  await fill(store);
  store.flush();
  return store;
}

async function timedSync(store: Store): Promise<{ rows: number; seconds: number }> {
  const syncConfig = { ...config.sync, enabled: true, mariadb: { ...config.sync.mariadb, url: 'mariadb://root@127.0.0.1:3306/test', tablePrefix: prefix } };
  const sync = createSync(syncConfig, { site, store, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock });
  const started = performance.now();
  const rows = await sync.syncNow();
  const seconds = (performance.now() - started) / 1000;
  await sync.stop();
  return { rows, seconds };
}

async function dropBenchTables(): Promise<void> {
  const c = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
  const rows = (await c.query('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?', [`${prefix}%`])) as { t: string }[];
  for (const r of rows) await c.query(`DROP TABLE IF EXISTS \`${r.t}\``);
  await c.end();
}

// The store's timers are unref'ed (the daemon's sockets keep it alive); this script has no socket of its own.
const keepAlive = setInterval(() => undefined, 1_000);
try {
  const gc: Record<string, { perSec: number; commits: number; avgBatch: number; p50ms: number }> = {};
  for (const mode of ['full', 'normal'] as const) {
    gc[mode] = await (async () => {
      const metrics = createMetrics(false);
      const store = createStore({ ...config.storage, path: join(dir, `gc-${mode}.sqlite`), synchronous: mode }, { ...ctx(), metrics });
      metricsByStore.set(store, metrics);
      await store.start(signal);
      const total = 300_000;
      const t0 = Date.now();
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < total) {
            const s = next;
            next += 100;
            await store.appendReadings(syntheticReadings(s, 100, t0));
          }
        }),
      );
      const perSec = total / ((performance.now() - started) / 1000);
      const m = await store_metrics(store);
      await store.stop();
      return { perSec, ...m };
    })();
  }

  const bulkRows = 500_000;
  const bulk = await openFilled('bulk', async (store) => {
    const t0 = Date.now() - 86_400_000;
    for (let i = 0; i < bulkRows; i += 5_000) await store.appendReadings(syntheticReadings(i, 5_000, t0));
  });
  const bulkResult = await timedSync(bulk);
  await bulk.stop();

  // 24 h backlog at nominal rates: every signal of config/default.yaml at its periodSec, plus one window per stage per window.
  const day = 86_400_000;
  const t0 = Date.now() - day;
  const windowMs = config.windows.sizeSec * 1000;
  let backlogReadings = 0;
  const backlog = await openFilled('backlog', async (store) => {
    for (const s of config.signals) {
      const step = s.periodSec * 1000;
      const rows: Reading[] = [];
      for (let ts = t0; ts < t0 + day; ts += step) rows.push({ stage: s.stage, signal: s.id, ts, value: s.min + (s.max - s.min) * 0.5, quality: 'good', receivedAt: ts });
      backlogReadings += rows.length;
      await store.appendReadings(rows);
    }
    const windows: WindowRow[] = [];
    for (const stage of STAGES) for (let ts = t0 + windowMs; ts <= t0 + day; ts += windowMs) windows.push({ stage, windowStart: ts - windowMs, windowEnd: ts, quality: 1, features: '{"flow":{"mean":1}}' });
    store.insert('windows', windows);
  });
  const backlogResult = await timedSync(backlog);
  await backlog.stop();

  const rate = bulkResult.rows / bulkResult.seconds;
  const full = gc['full'];
  const normal = gc['normal'];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const md = `## Sync and store (\`npx tsx bench/sync/run.ts\`)

Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, MariaDB on 127.0.0.1, SQLite file in ${tmpdir()}, load average at the end ${loadavg()[0]?.toFixed(1) ?? '?'} (other work shares the cores; figures vary with it). Measured ${new Date().toISOString().slice(0, 10)}.

| measure | result | goal |
|---|---|---|
| rows/s into MariaDB (${fmt(bulkResult.rows)} readings, batch() of ${config.sync.batchRows}, one transaction each) | **${fmt(rate)} rows/s** | >= 20,000 |
| 24 h backlog at nominal rates (${config.signals.length} signals: ${fmt(backlogReadings)} readings + ${fmt(STAGES.length * (day / windowMs))} windows) | **${backlogResult.seconds.toFixed(2)} s** to catch up | - |
| group commit, synchronous=FULL (fsync per commit; survives power loss) | ${fmt(full?.perSec ?? 0)} readings/s, ${fmt(full?.commits ?? 0)} commits, ${fmt(full?.avgBatch ?? 0)} rows/commit, p50 commit <= ${full?.p50ms ?? 0} ms | - |
| group commit, synchronous=NORMAL (survives kill -9 only) | ${fmt(normal?.perSec ?? 0)} readings/s, ${fmt(normal?.commits ?? 0)} commits, ${fmt(normal?.avgBatch ?? 0)} rows/commit, p50 commit <= ${normal?.p50ms ?? 0} ms | - |

Group commit: 300,000 readings appended in batches of 100 with 64 appends in flight (like 64 MQTT publishers), each
append resolving only after its commit; default storage config (groupCommitMs ${config.storage.groupCommitMs}, maxBatchRows ${config.storage.maxBatchRows}).
The default is FULL: the throughput cost is small because a commit carries thousands of rows.`;
  writeReportSection('docs/benchmarks.md', 'sync', md);
  process.stdout.write(`${md}\n`);
} finally {
  await dropBenchTables().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  clearInterval(keepAlive);
}
