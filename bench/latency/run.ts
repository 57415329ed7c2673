/**
 * Latency from a plant window closing to its setpoints being handed to the broker, with every shipped
 * model active: twin readings (full plant, dry weather, every signal each plant minute) are published over
 * MQTT, from a separate publisher process (bench/latency/twin-publisher.ts), into the embedded broker.
 * Readings are paced at --rate readings/s (default 10,000, the soak's rate): a busy plant's load, not a
 * flood that only measures queueing behind the broker.
 * --plc C adds C PLC-shaped QoS 1 connections (bench/ingest/plc-publisher.ts, window --plc-window, flat
 * out) for the whole run: their readings are ten years old, so they load the broker, the ingest and the
 * group commit as much as any reading but fall behind every window (stored, not windowed).
 *   npx tsx bench/latency/run.ts [--days D] [--rate R] [--plc C] [--plc-window W]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { writeReportSection } from '../../eval/lib/report.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const here = dirname(fileURLToPath(import.meta.url));
const DAYS = arg('days', 2);
const RATE = arg('rate', 10_000);
const PLC = arg('plc', 0);
const PLC_WINDOW = arg('plc-window', 1);

const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-latency-'));
const config = loadConfig({
  override: {
    site: 'bench',
    broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
    http: { enabled: false },
    storage: { path: join(dir, 'bench.sqlite') },
    ingest: { maxAgeDays: 36500, maxFutureSkewSec: 3650 * 86400 },
    log: { level: 'silent' },
  },
});
const samples: number[] = [];
const runtime = createRuntime(config, { logger: silentLogger(), onWindowProcessed: (_plant, ms) => samples.push(ms) });
await runtime.start(new AbortController().signal);
// The readings come from another process, as from the PLCs: the daemon's event loop carries only the daemon.
const publisher = spawn(process.execPath, ['--import', 'tsx', join(here, 'twin-publisher.ts'), `mqtt://127.0.0.1:${runtime.ports().mqtt}`, 'bench', String(DAYS), String(RATE)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
publisher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
// The background load runs about as long as the twin's readings take at their pace.
const backgroundSeconds = Math.max(1, Math.round((DAYS * 1440 * 64) / RATE));
// Started once the twin's first window closed, so the old readings are late from the first (never windowed).
while (PLC > 0 && samples.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
const background =
  PLC > 0
    ? spawn(process.execPath, ['--import', 'tsx', join(here, '../ingest/plc-publisher.ts'), `mqtt://127.0.0.1:${runtime.ports().mqtt}`, String(PLC), String(PLC_WINDOW), String(backgroundSeconds), 'bench', '3650'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : undefined;
let backgroundOutput = '';
background?.stdout.on('data', (chunk: Buffer) => (backgroundOutput += chunk.toString()));
const backgroundDone = background ? new Promise<number | null>((resolve) => background.on('exit', resolve)) : Promise.resolve(0);
const code = await new Promise<number | null>((resolve) => publisher.on('exit', resolve));
if (code !== 0) throw new Error(`latency publisher exited with ${String(code)}`);
if ((await backgroundDone) !== 0) throw new Error('background publisher failed');
const { published, signals } = JSON.parse(output.trim()) as { published: number; signals: number };
const backgroundResult = backgroundOutput.trim().split('\n').pop();
const load = backgroundResult ? (JSON.parse(backgroundResult) as { perSec?: number; p50Ms?: number; p99Ms?: number }) : undefined;
await runtime.idle();
const rss = process.memoryUsage.rss() / 1024 ** 2;
await runtime.stop();
rmSync(dir, { recursive: true, force: true });

samples.sort((a, b) => a - b);
const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
const loadText =
  load?.perSec !== undefined
    ? `, beside ${PLC} PLC-shaped connections (window ${PLC_WINDOW}) at ${Math.round(load.perSec).toLocaleString('en')} readings/s, ack p50 ${load.p50Ms?.toFixed(2)} ms / p99 ${load.p99Ms?.toFixed(2)} ms`
    : '';
const underLoad = loadText
  ? ` Under load: ${PLC} more connections publish QoS 1 readings flat out with ${PLC_WINDOW} in flight each (bench/ingest/plc-publisher.ts; event time ten years back, so they are committed like any reading but windowed nowhere): ${Math.round(load?.perSec ?? 0).toLocaleString('en')} readings/s, ack p50 ${load?.p50Ms?.toFixed(2)} ms, p99 ${load?.p99Ms?.toFixed(2)} ms.`
  : '';
const line = `windows ${samples.length}, readings ${published}: p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${q(1).toFixed(2)} ms${loadText}`;
console.log(line);
writeReportSection(
  'docs/benchmarks.md',
  'latency',
  `## Latency: plant window closed -> setpoints handed to the broker

Command: \`npx tsx bench/latency/run.ts --days ${DAYS} --rate ${RATE}${PLC > 0 ? ` --plc ${PLC} --plc-window ${PLC_WINDOW}` : ''}\`. ${DAYS} plant days of dry weather from the twin (full plant, all ${signals}
signals every plant minute, ${published.toLocaleString('en')} readings at QoS 1, paced at ${RATE.toLocaleString('en')} readings/s by a separate publisher
process, over MQTT into the embedded broker of the daemon with every shipped model active); latency is measured per plant window from the moment
the window operator emits it, through indicators, every anomaly model and predictor (ONNX Runtime),
alarms, the six control policies and the envelope, to the setpoint publish. The same figure is exported
live as \`wwtp_edge_window_to_setpoint_seconds\`.${underLoad}

| windows | p50 (ms) | p99 (ms) | max (ms) | goal p99 | RSS after (MB) |
|---|---|---|---|---|---|
| ${samples.length} | ${q(0.5).toFixed(2)} | ${q(0.99).toFixed(2)} | ${q(1).toFixed(2)} | < 20 ms | ${Math.round(rss)} |

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${process.platform}/${process.arch}, load average ${loadavg()[0]?.toFixed(1) ?? 'n/a'} at the end.`,
);
process.exit(0);
