/**
 * PLC-shaped QoS 1 publishers (bench/ingest/plc-publisher.ts): 1, 10 and 100 connections, each with a
 * window of 1 and 20 unacknowledged messages, into the daemon's embedded broker (synchronous full and
 * normal) and into a Mosquitto of its own (no persistence: it acks from memory), in the same run; plus
 * the fsync time of the disk the SQLite file lives on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createRuntime } from '../../src/runtime.js';
import { repoRoot } from '../../eval/lib/report.js';

/** `pool`: synchronous full with every WAL fsync on the thread pool (`storage.inlineFsyncRows: 0`). */
export type DaemonMode = 'full' | 'normal' | 'pool';

export interface PlcCell {
  readonly target: DaemonMode | 'mosquitto';
  readonly clients: number;
  readonly window: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Broker (daemon or Mosquitto) CPU per acknowledged message, microseconds. */
  readonly cpuUs: number;
  readonly publisherCpuUs: number;
  /** Readings per group commit (daemon only). */
  readonly rowsPerCommit?: number;
  /** Mean time from a commit's start to its fsync's return, ms (daemon only). */
  readonly commitMs?: number;
}

interface PublisherResult {
  readonly acked: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerMsg: number;
}

/** Runs the publishers; `cpu()` is read when they start and when they end (CPU microseconds so far). */
function publish(url: string, clients: number, window: number, seconds: number, site: string, cpu: () => number): Promise<PublisherResult & { cpuUs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/ingest/plc-publisher.ts'), url, String(clients), String(window), String(seconds), site], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let startCpu = 0;
    let result: PublisherResult | undefined;
    let endCpu = 0;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as { started?: boolean } & PublisherResult;
      if (parsed.started) startCpu = cpu();
      else {
        endCpu = cpu();
        result = parsed;
      }
    });
    child.once('exit', (code) => {
      if (code !== 0 || !result) return reject(new Error(`plc publisher exited ${code}`));
      resolve({ ...result, cpuUs: (endCpu - startCpu) / Math.max(1, result.acked) });
    });
  });
}

function processCpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

async function daemonCell(mode: DaemonMode, clients: number, window: number, seconds: number): Promise<PlcCell> {
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-plc-'));
  const config = loadConfig({
    override: {
      site: 'bench',
      broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true, limits: { maxPublishesPerSecond: 10_000_000 } } },
      http: { enabled: false },
      storage: { path: join(dir, 'bench.sqlite'), synchronous: mode === 'normal' ? 'normal' : 'full', ...(mode === 'pool' ? { inlineFsyncRows: 0 } : {}) },
      models: { enabled: false },
      ingest: { maxAgeDays: 36500 },
      log: { level: 'silent' },
    },
  });
  const metrics = createMetrics();
  const runtime = createRuntime(config, { logger: silentLogger(), metrics });
  await runtime.start(new AbortController().signal);
  try {
    const r = await publish(`mqtt://127.0.0.1:${runtime.ports().mqtt}`, clients, window, seconds, 'bench', processCpuUs);
    const batch = (await metrics.commitBatch.get()).values;
    const commits = batch.find((v) => v.metricName === 'wwtp_edge_commit_batch_rows_count')?.value ?? 0;
    const rows = batch.find((v) => v.metricName === 'wwtp_edge_commit_batch_rows_sum')?.value ?? 0;
    const committing = (await metrics.commitSeconds.get()).values.find((v) => v.metricName === 'wwtp_edge_commit_seconds_sum')?.value ?? 0;
    return {
      target: mode,
      clients,
      window,
      perSec: r.perSec,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      cpuUs: r.cpuUs,
      publisherCpuUs: r.cpuUsPerMsg,
      rowsPerCommit: commits > 0 ? rows / commits : NaN,
      commitMs: commits > 0 ? (committing * 1000) / commits : NaN,
    };
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A Mosquitto of the bench's own, on a free loopback port, so its CPU time can be read from /proc. */
export async function startMosquitto(): Promise<{ url: string; cpuUs(): number; stop(): void }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('mosquitto did not start');
  for (let i = 0; i < 100; i += 1) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const ticks = 100;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cpuUs: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return ((Number(fields[11]) + Number(fields[12])) / ticks) * 1e6;
    },
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * fsync of a 4 KiB write on the file system of the SQLite file (the cost one group commit adds), and
 * the CPU time (user and system) of this process per fsync.
 */
export function fsyncTime(rounds = 300): { p50Ms: number; p99Ms: number; cpuUs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const block = Buffer.alloc(4096, 7);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  let cpu = cpu0;
  try {
    for (let i = 0; i < rounds; i += 1) {
      writeSync(fd, block, 0, block.length, (i % 64) * block.length);
      const t = performance.now();
      fsyncSync(fd);
      times.push(performance.now() - t);
    }
    cpu = process.cpuUsage(cpu0);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  return { p50Ms: times[Math.floor(rounds * 0.5)] ?? NaN, p99Ms: times[Math.floor(rounds * 0.99)] ?? NaN, cpuUs: (cpu.user + cpu.system) / rounds };
}

export interface PlcOptions {
  readonly seconds: number;
  readonly clients: readonly number[];
  readonly windows: readonly number[];
  readonly modes: readonly DaemonMode[];
  readonly reference: boolean;
}

/** Every cell once, interleaved target by target so the machine's load hits them alike. */
export async function plcMatrix(o: PlcOptions, onCell: (cell: PlcCell) => void): Promise<PlcCell[]> {
  const cells: PlcCell[] = [];
  const mosquitto = o.reference ? await startMosquitto() : undefined;
  try {
    for (const clients of o.clients) {
      for (const window of o.windows) {
        for (const mode of o.modes) {
          const cell = await daemonCell(mode, clients, window, o.seconds);
          cells.push(cell);
          onCell(cell);
        }
        if (mosquitto) {
          const r = await publish(mosquitto.url, clients, window, o.seconds, `bench${process.pid}`, () => mosquitto.cpuUs());
          const cell: PlcCell = { target: 'mosquitto', clients, window, perSec: r.perSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuUs: r.cpuUs, publisherCpuUs: r.cpuUsPerMsg };
          cells.push(cell);
          onCell(cell);
        }
      }
    }
  } finally {
    mosquitto?.stop();
  }
  return cells;
}
