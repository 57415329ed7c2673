/**
 * Ingest benchmark: publishers over real sockets -> embedded broker -> ingest -> SQLite committed,
 * QoS 0 and QoS 1 (acks after commit), against a raw Mosquitto pass-through measured in the same run;
 * then PLC-shaped QoS 1 publishers (bench/ingest/plc.ts: 1/10/100 connections x window 1/20,
 * synchronous full (fsync in place for small commits, and all on the thread pool) and normal, beside a Mosquitto of its own, with the disk's fsync time).
 *   npx tsx bench/ingest/run.ts [--readings N] [--clients C] [--qos 0|1] [--no-reference] [--dry]
 *     [--repeats R] [--plc-seconds S] [--no-plc] [--plc-only]
 *     [--plc-clients 1,10,100] [--plc-windows 1,20] [--plc-modes full,pool,normal]
 * --interleaved: every publisher sends every signal (out of event-time order per signal; bench/ingest/publisher.ts).
 * --qos runs one QoS only, --no-reference skips Mosquitto, --dry prints without writing the report
 * (profiling: node --cpu-prof --import tsx bench/ingest/run.ts --dry ...).
 * The daemon runs in this process (one core); the publishers run in a child process (the other core).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createRuntime } from '../../src/runtime.js';
import { repoRoot, writeReportSection } from '../../eval/lib/report.js';
import { loadavg } from 'node:os';
import { fsyncTime, plcMatrix, type DaemonMode, type PlcCell } from './plc.js';
import { plcReport } from './plc-report.js';
import { report } from './report.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const READINGS = arg('readings', 200_000);
const CLIENTS = arg('clients', 4);
const INFLIGHT = arg('inflight', 1000);
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const PATTERN = flag('interleaved') ? 'interleaved' : 'own';
const ONLY_QOS = process.argv.includes('--qos') ? arg('qos', 0) : undefined;
const REPEATS = arg('repeats', 1);
const PLC_SECONDS = arg('plc-seconds', 3);
const PLC = !flag('no-plc');
const LARGE = !flag('plc-only');
const list = (name: string, fallback: string): string[] => {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? (process.argv[i + 1] ?? fallback) : fallback).split(',');
};
const PLC_CLIENTS = list('plc-clients', '1,10,100').map(Number);
const PLC_WINDOWS = list('plc-windows', '1,20').map(Number);
const PLC_MODES = list('plc-modes', 'full,pool,normal').filter((m): m is DaemonMode => m === 'full' || m === 'normal' || m === 'pool');

interface PublisherRun {
  readonly sent: number;
  /** Epoch ms at which the publishers started connecting (their process start-up is over). */
  readonly startedAt: number;
  readonly ms: number;
  /** CPU time of the publisher process, start-up included. */
  readonly cpuMs: number;
}

function publishers(url: string, qos: 0 | 1, count: number, site: string): Promise<PublisherRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/ingest/publisher.ts'), url, String(qos), String(CLIENTS), String(count), String(INFLIGHT), site, '0', PATTERN], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as PublisherRun) : reject(new Error(`publisher exited ${code}`))));
  });
}

async function histogramP99(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const data = await metrics.commitSeconds.get();
  const buckets = data.values.filter((v) => v.metricName === 'wwtp_edge_commit_seconds_bucket');
  const count = data.values.find((v) => v.metricName === 'wwtp_edge_commit_seconds_count')?.value ?? 0;
  const target = 0.99 * count;
  for (const b of buckets) if (b.value >= target) return Number(b.labels['le']) * 1000;
  return NaN;
}

async function commitStats(metrics: ReturnType<typeof createMetrics>): Promise<{ commits: number; rowsPerCommit: number; commitMs: number }> {
  const batch = (await metrics.commitBatch.get()).values;
  const seconds = (await metrics.commitSeconds.get()).values;
  const commits = batch.find((v) => v.metricName === 'wwtp_edge_commit_batch_rows_count')?.value ?? 0;
  const rows = batch.find((v) => v.metricName === 'wwtp_edge_commit_batch_rows_sum')?.value ?? 0;
  const secs = seconds.find((v) => v.metricName === 'wwtp_edge_commit_seconds_sum')?.value ?? 0;
  return { commits, rowsPerCommit: commits > 0 ? rows / commits : 0, commitMs: secs * 1000 };
}

interface DaemonRun {
  readonly perSec: number;
  readonly p99CommitMs: number;
  readonly rssMb: number;
  readonly committed: number;
  /** Daemon CPU time (all threads) per committed reading, microseconds. */
  readonly cpuUs: number;
  /** Publisher process CPU time per message, microseconds (start-up included). */
  readonly publisherCpuUs: number;
}

async function daemonRun(qos: 0 | 1): Promise<DaemonRun> {
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-ingest-'));
  const config = loadConfig({
    override: {
      site: 'bench',
      broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true, limits: { maxPublishesPerSecond: 10_000_000 } } },
      http: { enabled: false },
      storage: { path: join(dir, 'bench.sqlite') },
      models: { enabled: false },
      ingest: { maxAgeDays: 36500 },
      log: { level: 'silent' },
    },
  });
  const metrics = createMetrics();
  const runtime = createRuntime(config, { logger: silentLogger(), metrics });
  const controller = new AbortController();
  await runtime.start(controller.signal);
  const url = `mqtt://127.0.0.1:${runtime.ports().mqtt}`;
  let rssPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 100);
  const spawnedAt = Date.now();
  const cpu0 = process.cpuUsage();
  const published = await publishers(url, qos, READINGS, 'bench');
  // QoS 0 is fire and forget: wait until every reading is committed
  const target = Math.floor(READINGS / CLIENTS) * CLIENTS;
  let committed = 0;
  for (let i = 0; i < 600; i += 1) {
    committed = (await metrics.readingsIn.get()).values.reduce((s, v) => s + v.value, 0);
    if (committed >= target) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const endedAt = Date.now();
  // From the publishers' first connection to the last commit: the publisher process's own start-up
  // (node, tsx, mqtt.js; the daemon idles meanwhile) is not the daemon's time.
  const ms = endedAt - published.startedAt;
  clearInterval(sampler);
  const p99CommitMs = await histogramP99(metrics);
  const stats = await commitStats(metrics);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `  QoS ${qos}: ${stats.commits} commits, ${Math.round(stats.rowsPerCommit)} rows each, ${Math.round(stats.commitMs)} ms in commits; ` +
      `daemon CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms for ${Math.round(ms)} ms wall (${Math.round(endedAt - spawnedAt)} ms with the publishers' start-up, ${Math.round((committed / (endedAt - spawnedAt)) * 1000)}/s); ` +
      `publishers CPU ${Math.round(published.cpuMs)} ms for ${Math.round(published.ms)} ms`,
  );
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    perSec: (committed / ms) * 1000,
    p99CommitMs,
    rssMb: rssPeak / 1024 ** 2,
    committed,
    cpuUs: (cpu.user + cpu.system) / committed,
    publisherCpuUs: (published.cpuMs * 1000) / published.sent,
  };
}

interface ReferenceRun {
  /** Messages the subscriber got per second, up to its last message. */
  readonly perSec: number;
  /** Share of the published messages the subscriber got (Mosquitto drops past max_queued_messages). */
  readonly delivered: number;
  /** Messages Mosquitto accepted per second, as the publishers saw it (QoS 1: PUBACKs). */
  readonly acceptedPerSec: number;
}

async function mosquittoRun(qos: 0 | 1): Promise<ReferenceRun> {
  const site = `bench${process.pid}`;
  const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `bench-sub-${process.pid}`, clean: true });
  let received = 0;
  let lastAt = Date.now();
  const target = Math.floor(READINGS / CLIENTS) * CLIENTS;
  sub.on('message', () => {
    received += 1;
    lastAt = Date.now();
  });
  await sub.subscribeAsync(`wwtp/${site}/#`, { qos });
  const published = await publishers('mqtt://127.0.0.1:1883', qos, READINGS, site);
  // Done when all arrived or the subscriber has been quiet for a second (the rest was dropped).
  while (received < target && Date.now() - lastAt < 1_000) await new Promise((r) => setTimeout(r, 20));
  await sub.endAsync();
  // Timed like the daemon: from the publishers' first connection to the last message delivered.
  return { perSec: (received / (lastAt - published.startedAt)) * 1000, delivered: received / target, acceptedPerSec: (published.sent / published.ms) * 1000 };
}

const rows: string[] = [];
const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a');
const loads: string[] = [];
const sampleLoad = (): void => void loads.push(loadavg()[0]?.toFixed(1) ?? 'n/a');
const large: { qos0?: { perSec: number; cpuUs: number }; qos1?: { perSec: number; cpuUs: number } } = {};
sampleLoad();
for (const qos of [0, 1] as const) {
  if (!LARGE || (ONLY_QOS !== undefined && ONLY_QOS !== qos)) continue;
  const d = await daemonRun(qos);
  large[qos === 0 ? 'qos0' : 'qos1'] = { perSec: d.perSec, cpuUs: d.cpuUs };
  const ref: ReferenceRun = flag('no-reference') ? { perSec: NaN, delivered: NaN, acceptedPerSec: NaN } : await mosquittoRun(qos);
  rows.push(
    `| ${qos} | ${fmt(d.perSec)} | ${d.committed.toLocaleString('en')} | ${d.p99CommitMs.toFixed(1)} | ${Math.round(d.rssMb)} | ${d.cpuUs.toFixed(1)} | ${fmt(1e6 / d.cpuUs)} | ${d.publisherCpuUs.toFixed(1)} | ${fmt(ref.perSec)} (${(ref.delivered * 100).toFixed(0)} % delivered) | ${fmt(ref.acceptedPerSec)} | ${(d.perSec / ref.perSec).toFixed(2)} | ${(d.perSec / ref.acceptedPerSec).toFixed(2)} |`,
  );
  console.log(
    `QoS ${qos}: daemon ${Math.round(d.perSec)}/s committed (p99 commit ${d.p99CommitMs} ms, RSS ${Math.round(d.rssMb)} MB, ${d.cpuUs.toFixed(1)} us CPU per reading); ` +
      `mosquitto pass-through ${Math.round(ref.perSec)}/s (${(ref.delivered * 100).toFixed(0)} % delivered, ${Math.round(ref.acceptedPerSec)}/s accepted)`,
  );
  sampleLoad();
}
if (LARGE && !flag('dry')) writeReportSection('docs/benchmarks.md', 'ingest', report(rows, { readings: READINGS, clients: CLIENTS, inflight: INFLIGHT, pattern: PATTERN }));

if (PLC) {
  const fsync = [fsyncTime()];
  const cells: PlcCell[] = [];
  for (let rep = 0; rep < REPEATS; rep += 1) {
    cells.push(
      ...(await plcMatrix({ seconds: PLC_SECONDS, clients: PLC_CLIENTS, windows: PLC_WINDOWS, modes: PLC_MODES, reference: !flag('no-reference') }, (c) =>
        console.log(
          `PLC ${c.clients} x window ${c.window}, ${c.target}: ${fmt(c.perSec)}/s, ack p50 ${c.p50Ms.toFixed(2)} ms p99 ${c.p99Ms.toFixed(2)} ms, ${c.cpuUs.toFixed(1)} us CPU per reading` +
            (c.rowsPerCommit !== undefined ? `, ${c.rowsPerCommit.toFixed(1)} per commit` : ''),
        ),
      )),
    );
    fsync.push(fsyncTime());
    sampleLoad();
  }
  console.log(`fsync p50 ${fsync.map((f) => f.p50Ms.toFixed(3)).join(', ')} ms, CPU ${fsync.map((f) => f.cpuUs.toFixed(0)).join(', ')} us each`);
  const command = `npx tsx bench/ingest/run.ts${READINGS !== 200_000 ? ` --readings ${READINGS}` : ''}${CLIENTS !== 4 ? ` --clients ${CLIENTS}` : ''}${REPEATS !== 1 ? ` --repeats ${REPEATS}` : ''}${PLC_SECONDS !== 3 ? ` --plc-seconds ${PLC_SECONDS}` : ''}${LARGE ? '' : ' --plc-only'}`;
  const markdown = plcReport({ command, seconds: PLC_SECONDS, repeats: REPEATS, cells, fsync, large, loads });
  if (flag('dry')) console.log(markdown);
  else writeReportSection('docs/benchmarks.md', 'ingest-plc', markdown);
}
process.exit(0);
