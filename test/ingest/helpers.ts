import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/load.js';
import type { EdgeConfig } from '../../src/config/schema.js';
import type { HmiCommand, ReadingSink } from '../../src/contract/ports.js';
import type { DeadLetter, Reading } from '../../src/contract/reading.js';
import { createIngest, type Ingest } from '../../src/ingest/index.js';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics, type Metrics } from '../../src/lib/metrics.js';

/**
 * In-memory ReadingSink (same interface as the SQLite store). `mode` decides what an append does:
 * resolve at once, reject (queue full), or wait until the test settles it by hand.
 */
export class MemorySink implements ReadingSink {
  readonly readings: Reading[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly appends: number[] = [];
  readonly held: { readings: readonly Reading[]; resolve(): void; reject(error: Error): void }[] = [];
  mode: 'resolve' | 'reject' | 'hold' = 'resolve';

  appendReadings(readings: readonly Reading[], deadLetters: readonly DeadLetter[] = []): Promise<readonly Reading[]> {
    if (readings.length > 0) this.appends.push(readings.length);
    if (this.mode === 'reject') return Promise.reject(new Error('store queue full'));
    if (this.mode === 'hold') {
      return new Promise((resolve, reject) => {
        this.held.push({
          readings,
          resolve: () => {
            this.readings.push(...readings);
            this.deadLetters.push(...deadLetters);
            resolve(readings);
          },
          reject,
        });
      });
    }
    this.readings.push(...readings);
    this.deadLetters.push(...deadLetters);
    return Promise.resolve(readings);
  }

  appendDeadLetter(deadLetter: DeadLetter): void {
    this.deadLetters.push(deadLetter);
  }

  byReason(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const d of this.deadLetters) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
    return counts;
  }
}

/** A clock whose `now` the test sets; timers are real. */
export function manualClock(start = Date.UTC(2026, 5, 1, 12)): Clock & { set(ms: number): void } {
  let now = start;
  return { ...systemClock, now: () => now, set: (ms) => (now = ms) };
}

export function uniqueSite(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The default plant config with a test site and overrides. */
export function testConfig(override: Record<string, unknown> = {}): Readonly<EdgeConfig> {
  return loadConfig({ override: { site: uniqueSite(), ...override } });
}

export interface IngestHarness {
  readonly ingest: Ingest;
  readonly sink: MemorySink;
  readonly metrics: Metrics;
  readonly config: Readonly<EdgeConfig>;
  readonly committed: Reading[];
  readonly commands: HmiCommand[];
  readonly published: DeadLetter[];
  readonly raw: { topic: string; payload: Buffer }[];
  /** handle() with an ack recorder; resolves with the ack value. */
  send(topic: string, payload: string | Buffer, qos?: number): Promise<boolean>;
}

export function ingestHarness(opts: { config?: Readonly<EdgeConfig>; clock?: Clock; onCommand?: (c: HmiCommand) => void } = {}): IngestHarness {
  const config = opts.config ?? testConfig();
  const sink = new MemorySink();
  const metrics = createMetrics(false);
  const committed: Reading[] = [];
  const commands: HmiCommand[] = [];
  const published: DeadLetter[] = [];
  const raw: { topic: string; payload: Buffer }[] = [];
  const ingest = createIngest({
    config,
    sink,
    clock: opts.clock ?? systemClock,
    logger: silentLogger(),
    metrics,
    publishDeadLetter: (d) => published.push(d),
    onReadings: (r) => committed.push(...r),
    onCommand: opts.onCommand ?? ((c) => commands.push(c)),
    publishRaw: (topic, payload) => raw.push({ topic, payload }),
  });
  return {
    ingest,
    sink,
    metrics,
    config,
    committed,
    commands,
    published,
    raw,
    send: (topic, payload, qos = 1) =>
      new Promise<boolean>((resolve) => ingest.handle(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, qos, resolve)),
  };
}

export async function counterValue(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((n, v) => n + v.value, 0);
}
