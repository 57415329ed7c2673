/**
 * Window-to-setpoint latency while a model trains in the background (issue 15 item 4): the daemon with
 * every shipped model active and models.lifecycle.retrain on, twin readings (full plant, dry weather,
 * every signal each plant minute) over MQTT from a separate publisher process (bench/latency/twin-publisher.ts)
 * paced at --rate readings/s. The new-windows trigger (--trigger windows) starts the training child
 * (predictors and autoencoders from the daemon's own store, niceness 10, heap limit 768 MiB); each window's
 * latency is tagged by whether a training child of the daemon was running when it was processed.
 *   npx tsx bench/lifecycle/retrain.ts [--days D] [--rate R] [--trigger W]
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { writeReportSection } from '../../eval/lib/report.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const DAYS = arg('days', 3);
const RATE = arg('rate', 5_000);
const TRIGGER = arg('trigger', 288);

const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-retrain-'));
cpSync(join(root, 'models'), join(dir, 'models'), { recursive: true });
rmSync(join(dir, 'models', 'candidates'), { recursive: true, force: true });
const config = loadConfig({
  override: {
    site: 'bench',
    broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
    http: { enabled: false },
    storage: { path: join(dir, 'bench.sqlite') },
    ingest: { maxAgeDays: 36500, maxFutureSkewSec: 3650 * 86400 },
    log: { level: 'silent' },
    models: { dir: join(dir, 'models'), lifecycle: { publishSec: 1, skill: { enabled: false }, drift: { enabled: false }, schedule: { enabled: false }, falseAlarms: { enabled: false }, newWindows: { windows: TRIGGER }, retrain: { enabled: true } } },
  },
});

/** The daemon's (this process's) children that are training children. */
function trainingChildren(): number[] {
  const file = `/proc/${process.pid}/task/${process.pid}/children`;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('retrain-worker');
    } catch {
      return false;
    }
  });
}
const peakRssMb = new Map<number, number>();
let training = false;
let trainingMs = 0;
let lastPoll = performance.now();
const poll = setInterval(() => {
  const now = performance.now();
  if (training) trainingMs += now - lastPoll;
  lastPoll = now;
  const pids = trainingChildren();
  training = pids.length > 0;
  for (const pid of pids) {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (hwm) peakRssMb.set(pid, Math.max(peakRssMb.get(pid) ?? 0, Number(hwm) / 1024));
    } catch {
      // ended between the two reads
    }
  }
}, 100);

const during: number[] = [];
const outside: number[] = [];
const runtime = createRuntime(config, { logger: silentLogger(), onWindowProcessed: (_plant, ms) => (training ? during : outside).push(ms) });
await runtime.start(new AbortController().signal);
const publisher = spawn(process.execPath, ['--import', 'tsx', join(here, '../latency/twin-publisher.ts'), `mqtt://127.0.0.1:${runtime.ports().mqtt}`, 'bench', String(DAYS), String(RATE)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
publisher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
const code = await new Promise<number | null>((resolve) => publisher.on('exit', resolve));
if (code !== 0) throw new Error(`twin publisher exited with ${String(code)}`);
await runtime.idle();
const stillTraining = training;
const rss = process.memoryUsage.rss() / 1024 ** 2;
clearInterval(poll);
await runtime.stop();
const db = new Database(join(dir, 'bench.sqlite'), { readonly: true });
const candidates = db.prepare("SELECT model, event, reason FROM model_events WHERE event IN ('candidate', 'gate') ORDER BY seq").all() as { model: string; event: string; reason: string }[];
db.close();
rmSync(dir, { recursive: true, force: true });
const { published } = JSON.parse(output.trim()) as { published: number };

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
};
const row = (label: string, xs: number[]): string => `| ${label} | ${xs.length} | ${q(xs, 0.5).toFixed(2)} | ${q(xs, 0.99).toFixed(2)} | ${q(xs, 1).toFixed(2)} |`;
const peak = Math.max(0, ...peakRssMb.values());
const made = candidates.filter((c) => c.event === 'candidate').length;
const passed = candidates.filter((c) => c.event === 'gate' && c.reason.startsWith('gate passed')).length;
console.log(`during training ${during.length} windows p99 ${q(during, 0.99).toFixed(2)} ms; outside ${outside.length} p99 ${q(outside, 0.99).toFixed(2)} ms; child peak RSS ${peak.toFixed(0)} MB; candidates ${made}, passed ${passed}`);
writeReportSection(
  'docs/benchmarks.md',
  'retrain-latency',
  `## Latency while a model trains in the background

Command: \`npx tsx bench/lifecycle/retrain.ts --days ${DAYS} --rate ${RATE} --trigger ${TRIGGER}\`. The latency bench's plant (${DAYS} plant days of dry
weather from the twin, ${published.toLocaleString('en')} readings at QoS 1 paced at ${RATE.toLocaleString('en')} readings/s by a separate publisher process,
every shipped model active) with \`models.lifecycle.retrain\` on: after ${TRIGGER} windows the new-windows trigger of each active
version starts the training children (one at a time, niceness 10, \`--max-old-space-size=768\`), which train from the daemon's own
store file while the daemon writes it and run the quality gate. Each window's latency (window closed -> setpoints handed to the
broker) is counted as "during training" when a training child of the daemon was running at that moment (/proc polled every 100 ms).
A training child ran for ${(trainingMs / 1000).toFixed(0)} s of the run${stillTraining ? ' and was still training at the end (stopped with the daemon)' : ''}; ${made} candidate${made === 1 ? ' was' : 's were'} written, ${passed} passed ${made === 1 ? 'its' : 'their'} gate
(a day of plant history is little to train on).

| windows | n | p50 (ms) | p99 (ms) | max (ms) |
|---|---|---|---|---|
${row('during training', during)}
${row('no training child', outside)}

Goal: p99 < 20 ms while training. Training child peak RSS ${peak.toFixed(0)} MB (VmHWM); the daemon's RSS after ${Math.round(rss)} MB.
Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${process.platform}/${process.arch}, 2 cores shared with other work, load average ${loadavg()[0]?.toFixed(1) ?? 'n/a'} at the end.`,
);
process.exit(0);
