/**
 * Latency from a plant window closing to its setpoints being handed to the broker, with every shipped
 * model active: twin readings (full plant, dry weather, every signal each plant minute) are published over
 * MQTT, from a separate publisher process (bench/latency/twin-publisher.ts), into the embedded broker.
 * Readings are paced at --rate readings/s (default 10,000, the soak's rate): a busy plant's load, not a
 * flood that only measures queueing behind the broker.
 *   npx tsx bench/latency/run.ts [--days D] [--rate R]
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
const code = await new Promise<number | null>((resolve) => publisher.on('exit', resolve));
if (code !== 0) throw new Error(`latency publisher exited with ${String(code)}`);
const { published, signals } = JSON.parse(output.trim()) as { published: number; signals: number };
await runtime.idle();
const rss = process.memoryUsage.rss() / 1024 ** 2;
await runtime.stop();
rmSync(dir, { recursive: true, force: true });

samples.sort((a, b) => a - b);
const q = (p: number): number => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? NaN;
const line = `windows ${samples.length}, readings ${published}: p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${q(1).toFixed(2)} ms`;
console.log(line);
writeReportSection(
  'docs/benchmarks.md',
  'latency',
  `## Latency: plant window closed -> setpoints handed to the broker

Command: \`npx tsx bench/latency/run.ts --days ${DAYS} --rate ${RATE}\`. ${DAYS} plant days of dry weather from the twin (full plant, all ${signals}
signals every plant minute, ${published.toLocaleString('en')} readings at QoS 1, paced at ${RATE.toLocaleString('en')} readings/s by a separate publisher
process, over MQTT into the embedded broker of the daemon with every shipped model active); latency is measured per plant window from the moment
the window operator emits it, through indicators, every anomaly model and predictor (ONNX Runtime),
alarms, the six control policies and the envelope, to the setpoint publish. The same figure is exported
live as \`wwtp_edge_window_to_setpoint_seconds\`.

| windows | p50 (ms) | p99 (ms) | max (ms) | goal p99 | RSS after (MB) |
|---|---|---|---|---|---|
| ${samples.length} | ${q(0.5).toFixed(2)} | ${q(0.99).toFixed(2)} | ${q(1).toFixed(2)} | < 20 ms | ${Math.round(rss)} |

Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}.`,
);
process.exit(0);
