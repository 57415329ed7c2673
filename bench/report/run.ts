/**
 * The regulator's daily report on a day of 1 s readings, beside a PLC at work, measured from the
 * outside: `wwtp-edge run` as a child process on a store holding the day, one MQTT.js PLC keeping one
 * QoS 1 reading in flight (as a PLC does) the whole time, and `GET /api/v1/report?day=` asked of the
 * daemon while it publishes. Reported: the report's time, the PLC's acknowledgement latency and
 * throughput before and while it runs, the daemon's peak RSS growth; then `wwtp-edge report` (the CLI)
 * on the same store: time and peak RSS.
 *
 *   npx tsx bench/report/run.ts [--signals 24] [--before DIR] [--no-report]
 *
 * --before DIR measures another checkout's bin/wwtp-edge.js first (`git worktree add DIR COMMIT`, with
 * node_modules linked in) for a comparison.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { writeReportSection } from '../../eval/lib/report.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
};
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SIGNALS = Number(opt('signals', '24'));
const BEFORE = opt('before', '');
const DAY = '2026-03-02';
const SITE = 'reportbench';
const BASELINE_MS = 3000;

interface Acks {
  readonly n: number;
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The acks of the readings sent in [from, to), whenever they came. */
function summary(latencies: readonly { sent: number; ms: number }[], from: number, to: number): Acks {
  const ms = latencies.filter((l) => l.sent >= from && l.sent < to).map((l) => l.ms).sort((a, b) => a - b);
  const q = (p: number): number => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? NaN;
  return { n: ms.length, perSec: (ms.length * 1000) / Math.max(1, to - from), p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1] ?? NaN };
}

const peakRssMb = (pid: number): number => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

interface Measured {
  readonly reportMs: number;
  readonly status: number;
  readonly before: Acks;
  readonly during: Acks;
  readonly rssBefore: number;
  readonly rssPeak: number;
  readonly cliSec: number;
  readonly cliRssMb: number;
}

async function measure(checkout: string, configFile: string): Promise<Measured> {
  const bin = join(checkout, 'bin', 'wwtp-edge.js');
  const daemon = spawn(process.execPath, [bin, 'run', '--config', configFile], {
    cwd: checkout,
    env: {
      ...process.env,
      WWTP_EDGE_BROKER__EMBEDDED__PORT: '0',
      WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null',
      WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true',
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_LOG__LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ mqtt: number; http: number }>((resolve, reject) => {
    daemon.once('exit', (code) => reject(new Error(`daemon exited ${code}`)));
    createInterface({ input: daemon.stdout }).on('line', (line) => {
      if (line.includes('"wwtp-edge running"')) resolve(JSON.parse(line) as { mqtt: number; http: number });
    });
  });
  const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: `report-bench-plc-${process.pid}`, reconnectPeriod: 0 });
  const latencies: { sent: number; ms: number }[] = [];
  let running = true;
  const base = Date.now() - 30 * 86_400_000;
  let sent = 0;
  const pump = (): void => {
    if (!running) return;
    const at = performance.now();
    sent += 1;
    plc.publish(`wwtp/${SITE}/aerobic/do`, `{"value":${(1 + (sent % 50) / 10).toFixed(1)},"ts":${base + sent}}`, { qos: 1 }, (error) => {
      if (error) throw error;
      const now = performance.now();
      latencies.push({ sent: at, ms: now - at });
      pump();
    });
  };
  pump();
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, BASELINE_MS));
  const rssBefore = peakRssMb(daemon.pid ?? 0);
  const t1 = performance.now();
  const reply = await fetch(`http://127.0.0.1:${ports.http}/api/v1/report?day=${DAY}`);
  await reply.text();
  const t2 = performance.now();
  const rssPeak = peakRssMb(daemon.pid ?? 0);
  // the reading sent last before the reply is acknowledged before the PLC stops
  await new Promise((r) => setTimeout(r, 1000));
  running = false;
  await new Promise((r) => setTimeout(r, 200));
  await plc.endAsync();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));

  const cli = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, bin, 'report', '--day', DAY, '--format', 'json', '--config', configFile], { cwd: checkout, encoding: 'utf8', maxBuffer: 1 << 26 });
  const [cliSec, cliKb] = (cli.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { reportMs: t2 - t1, status: reply.status, before: summary(latencies, t0, t1), during: summary(latencies, t1, t2), rssBefore, rssPeak, cliSec: cliSec ?? NaN, cliRssMb: (cliKb ?? NaN) / 1024 };
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '-');
const row = (label: string, m: Measured): string =>
  `| ${label} | ${m.status} | ${f2(m.reportMs / 1000)} s | ${f1(m.before.perSec)} / ${f2(m.before.p99)} ms | ${f1(m.during.perSec)} / ${f2(m.during.p50)} / ${f2(m.during.p99)} / ${f1(m.during.max)} ms | ${f1(m.rssPeak - m.rssBefore)} MB | ${f2(m.cliSec)} s, ${f1(m.cliRssMb)} MB |`;

const dir = mkdtempSync(join(tmpdir(), 'wwtp-report-bench-'));
try {
  const fill = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'fill.ts'), dir, String(SIGNALS), DAY], { cwd: root, encoding: 'utf8' });
  if (fill.status !== 0) throw new Error(`filling the store failed: ${fill.stderr}`);
  const filled = JSON.parse(fill.stdout.trim().split('\n').pop() ?? '{}') as { readings: number; configFile: string };
  process.stderr.write(`store: ${filled.readings} readings of ${SIGNALS} signals at 1 s on ${DAY}\n`);
  const rows: string[] = [];
  if (BEFORE) {
    const m = await measure(BEFORE, filled.configFile);
    const commit = spawnSync('git', ['-C', BEFORE, 'log', '-1', '--format=%h'], { encoding: 'utf8' }).stdout.trim();
    rows.push(row(`before (${commit ? `commit ${commit}` : BEFORE})`, m));
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
  const m = await measure(root, filled.configFile);
  rows.push(row('this checkout', m));
  process.stderr.write(`${rows[rows.length - 1]}\n`);
  const markdown = `## The daily report beside a PLC at work (\`npx tsx bench/report/run.ts --signals ${SIGNALS}${BEFORE ? ' --before DIR' : ''}\`)

A store holding ${DAY} at 1 s for ${SIGNALS} signals (${filled.readings.toLocaleString('en-US')} readings); \`wwtp-edge run\` on it (child process, embedded broker,
models off), one MQTT.js PLC keeping one QoS 1 reading in flight throughout, and \`GET /api/v1/report?day=${DAY}\` asked of the daemon
after ${BASELINE_MS / 1000} s. PLC figures: readings acknowledged per second and ack latency before the report, and of the readings sent while it runs (p50 / p99 / the longest);
the daemon's peak RSS growth over the report (VmHWM); then \`wwtp-edge report --day ${DAY} --format json\` on the same store (wall time, peak RSS).

| daemon | HTTP | report | PLC before: readings/s / ack p99 | PLC during: readings/s / ack p50 / p99 / max | daemon peak RSS growth | CLI report |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} at the end.`;
  process.stdout.write(`${markdown}\n`);
  if (!args.includes('--no-report')) writeReportSection('docs/benchmarks.md', 'report', markdown);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
