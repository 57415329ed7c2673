import { afterEach } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createBroker, type Broker } from '../../src/broker/index.js';
import type { EdgeConfig } from '../../src/config/schema.js';
import { outTopic } from '../../src/contract/topics.js';
import { createIngest, type Ingest } from '../../src/ingest/index.js';
import type { HmiCommand } from '../../src/contract/ports.js';
import type { Reading } from '../../src/contract/reading.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics, type Metrics } from '../../src/lib/metrics.js';
import { MemorySink, testConfig } from '../ingest/helpers.js';

export const MOSQUITTO_URL = 'mqtt://127.0.0.1:1883';

/** Mosquitto at 127.0.0.1:1883; with CI=true its absence fails the tests instead of skipping them. */
export async function mosquittoAvailable(): Promise<boolean> {
  try {
    const client = await mqtt.connectAsync(MOSQUITTO_URL, { connectTimeout: 2000, reconnectPeriod: 0 });
    await client.endAsync();
    return true;
  } catch {
    if (process.env['CI'] === 'true') throw new Error('Mosquitto is not running at 127.0.0.1:1883 (CI=true requires it)');
    return false;
  }
}

export interface DaemonSide {
  readonly broker: Broker;
  readonly ingest: Ingest;
  readonly sink: MemorySink;
  readonly metrics: Metrics;
  readonly config: Readonly<EdgeConfig>;
  readonly committed: Reading[];
  readonly commands: HmiCommand[];
  /** URL a PLC/HMI client connects to. */
  url(protocol?: 'mqtt' | 'ws'): string;
  stop(): Promise<void>;
}

/** The broker (either mode) wired to a real ingest and an in-memory sink, as the runtime wires them. */
export async function startDaemonSide(opts: { mode: 'embedded' | 'external'; broker?: Record<string, unknown>; config?: Readonly<EdgeConfig>; sink?: MemorySink; metrics?: Metrics; drainTimeoutMs?: number }): Promise<DaemonSide> {
  const base = opts.config ?? testConfig();
  const config = opts.config ?? testConfig({
    site: base.site,
    broker: {
      mode: opts.mode,
      embedded: { host: '127.0.0.1', port: 0, wsPort: 0, allowAnonymous: true, ...(opts.mode === 'embedded' ? (opts.broker ?? {}) : {}) },
      external: { url: MOSQUITTO_URL, clientId: `wwtp-edge-test-${base.site}`, reconnectMinMs: 100, reconnectMaxMs: 1000, ...(opts.mode === 'external' ? (opts.broker ?? {}) : {}) },
    },
  });
  const sink = opts.sink ?? new MemorySink();
  const metrics = opts.metrics ?? createMetrics(false);
  const committed: Reading[] = [];
  const commands: HmiCommand[] = [];
  let ingest: Ingest | undefined;
  const broker = createBroker(config.broker, {
    site: config.site,
    logger: silentLogger(),
    metrics,
    drainTimeoutMs: opts.drainTimeoutMs ?? 500,
    onMessage: (message, ack) => (ingest ? ingest.handle(message.topic, message.payload, message.qos, ack) : ack(false)),
    onRejected: (message, reason, detail, ack) => (ingest ? ingest.reject(message.topic, message.payload, reason, detail, ack) : ack(false)),
  });
  ingest = createIngest({
    config,
    sink,
    clock: systemClock,
    logger: silentLogger(),
    metrics,
    publishDeadLetter: (d) => void broker.publish(outTopic(config.site, 'deadletter', {}), JSON.stringify(d), { qos: 0, retain: false }).catch(() => undefined),
    onReadings: (r) => committed.push(...r),
    onCommand: (c) => commands.push(c),
    publishRaw: (topic, payload) => void broker.publish(topic, payload, { qos: 0, retain: false }).catch(() => undefined),
  });
  await broker.start(new AbortController().signal);
  return {
    broker,
    ingest,
    sink,
    metrics,
    config,
    committed,
    commands,
    url: (protocol = 'mqtt') => {
      if (opts.mode === 'external') return MOSQUITTO_URL;
      const a = broker.address();
      return protocol === 'ws' ? `ws://127.0.0.1:${a.wsPort ?? 0}` : `mqtt://127.0.0.1:${a.tcpPort}`;
    },
    async stop() {
      await broker.stop();
      if (opts.mode === 'external') {
        // Drop the persistent test session from Mosquitto's store.
        const c = await mqtt.connectAsync(MOSQUITTO_URL, { clientId: `wwtp-edge-test-${config.site}`, clean: true, reconnectPeriod: 0 });
        await c.endAsync();
      }
    },
  };
}

export async function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** Polls until `check` holds (no timing in the assertion itself; the test timeout bounds it). */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Daemons and clients a test file opens, stopped and closed after each test (registers its own afterEach).
 * `daemon` starts an embedded-broker daemon side; `track` adopts one started with other options.
 */
export function openedPerTest(): {
  daemon(broker?: Record<string, unknown>): Promise<DaemonSide>;
  track(d: DaemonSide): DaemonSide;
  connect(url: string, options?: IClientOptions): Promise<MqttClient>;
} {
  let daemons: DaemonSide[] = [];
  let clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    clients = [];
    await Promise.all(daemons.map((d) => d.stop()));
    daemons = [];
  });
  const track = (d: DaemonSide): DaemonSide => {
    daemons.push(d);
    return d;
  };
  return {
    daemon: async (broker = {}) => track(await startDaemonSide({ mode: 'embedded', broker })),
    track,
    async connect(url, options = {}) {
      const c = await client(url, options);
      clients.push(c);
      return c;
    },
  };
}
