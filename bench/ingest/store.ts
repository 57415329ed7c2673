/**
 * The store alone, in process: appends like the ingest makes them (one per event-loop turn, a few
 * hundred readings each, many waiting for their commit), default storage config (synchronous=FULL).
 *   npx tsx bench/ingest/store.ts [--readings N] [--append R] [--rounds K]
 * Prints committed readings/s (wall) and CPU microseconds per reading; writes no report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageSchema } from '../../src/config/sections/storage.js';
import type { Reading } from '../../src/contract/reading.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createStore } from '../../src/store/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const READINGS = arg('readings', 200_000);
const APPEND = arg('append', 250);
const ROUNDS = arg('rounds', 3);
const signals = ['do', 'nh4_n', 'no3_n', 'mlss', 'airflow', 'kla', 'ph', 'temperature'];

function readings(count: number, t0: number): Reading[] {
  return Array.from({ length: count }, (_, n) => ({
    stage: 'aerobic' as const,
    signal: signals[n % signals.length] ?? 'do',
    ts: t0 + n,
    value: 1 + (n % 50) / 10,
    quality: 'good' as const,
    receivedAt: t0 + n,
  }));
}

async function round(): Promise<{ perSec: number; cpuUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-bench-store-'));
  const store = createStore(storageSchema.parse({ path: join(dir, 'store.sqlite') }), {
    site: 'bench',
    logger: silentLogger(),
    metrics: createMetrics(false),
    clock: systemClock,
  });
  await store.start(new AbortController().signal);
  const all = readings(READINGS, Date.now() - 86_400_000);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < all.length; i += APPEND) {
    pending.push(store.appendReadings(all.slice(i, i + APPEND)));
    // One append per event-loop turn, as the ingest batcher makes them.
    if ((i / APPEND) % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
  }
  // The store's group-commit timer is unref()ed (a daemon's sockets keep it alive): hold the loop open.
  const keepAlive = setInterval(() => undefined, 1_000);
  await Promise.all(pending);
  clearInterval(keepAlive);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const count = store.count('readings');
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  if (count !== READINGS) throw new Error(`${count} of ${READINGS} readings stored`);
  return { perSec: (READINGS / ms) * 1000, cpuUs: ((cpu.user + cpu.system) / READINGS) };
}

for (let i = 0; i < ROUNDS; i += 1) {
  const r = await round();
  console.log(`store: ${Math.round(r.perSec)} readings/s committed, ${r.cpuUs.toFixed(2)} us CPU per reading`);
}
