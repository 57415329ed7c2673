/**
 * Latency from a plant window closing to its setpoints being handed to the broker, with every shipped
 * model active: twin readings (BSM1 dry weather, all 64 signals each plant minute) are published over
 * MQTT into the embedded broker of an in-process daemon.
 * Readings are paced at --rate readings/s (default 10,000, the soak's rate): a busy plant's load, not a
 * flood that only measures queueing behind the broker.
 *   npx tsx bench/latency/run.ts [--days D] [--rate R]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { simulate } from '../../src/sim/index.js';
import { writeReportSection } from '../../eval/lib/report.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
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
const sim = simulate({ influent: 'dry', days: DAYS, seed: 7, sampleMin: 1, signals: config.signals });
const samples: number[] = [];
const runtime = createRuntime(config, { logger: silentLogger(), onWindowProcessed: (_plant, ms) => samples.push(ms) });
await runtime.start(new AbortController().signal);
const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${runtime.ports().mqtt}`, { clientId: 'bench-latency' });
const keys = Object.keys(sim.series.readings);
let published = 0;
const started = performance.now();
for (let i = 0; i < sim.series.ts.length; i += 1) {
  const due = started + (published / RATE) * 1000;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  const ts = sim.series.ts[i] ?? 0;
  const sends: Promise<unknown>[] = [];
  for (const key of keys) {
    const value = sim.series.readings[key]?.[i];
    if (value === undefined || !Number.isFinite(value)) continue;
    sends.push(client.publishAsync(`wwtp/bench/${key}`, JSON.stringify({ value, ts }), { qos: 1 }));
  }
  await Promise.all(sends);
  published += sends.length;
}
await runtime.idle();
await client.endAsync();
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

Command: \`npx tsx bench/latency/run.ts --days ${DAYS} --rate ${RATE}\`. ${DAYS} plant days of BSM1 dry weather from the twin (all ${keys.length}
signals every plant minute, ${published.toLocaleString('en')} readings at QoS 1, paced at ${RATE.toLocaleString('en')} readings/s, over MQTT into the
embedded broker of an in-process daemon with every shipped model active); latency is measured per plant window from the moment
the window operator emits it, through indicators, every anomaly model and predictor (ONNX Runtime),
alarms, the six control policies and the envelope, to the setpoint publish. The same figure is exported
live as \`wwtp_edge_window_to_setpoint_seconds\`.

| windows | p50 (ms) | p99 (ms) | max (ms) | goal p99 | RSS after (MB) |
|---|---|---|---|---|---|
| ${samples.length} | ${q(0.5).toFixed(2)} | ${q(0.99).toFixed(2)} | ${q(1).toFixed(2)} | < 20 ms | ${Math.round(rss)} |

Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}/${process.arch}.`,
);
process.exit(0);
