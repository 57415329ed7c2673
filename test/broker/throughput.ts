/**
 * Ingest hot-path figures (not a test; run with `npx tsx test/broker/throughput.ts`):
 * handle() alone, then real MQTT clients (in a worker thread, so they do not share the daemon's
 * core) through the embedded broker into an in-memory sink, QoS 0 and QoS 1, and the same through
 * Mosquitto next to a raw Mosquitto pass-through. The Mosquitto figures use the machine's broker
 * with its defaults (max_queued_messages 1000): a LOST count there is readings Mosquitto dropped
 * from the subscriber's queue, not the daemon's; `bench/external/run.ts` measures it against a
 * private Mosquitto with the defaults and with README's limits, in the daemon's SQLite file.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import mqtt from 'mqtt';
import { readingTopic } from '../../src/contract/topics.js';
import { MemorySink, ingestHarness, testConfig } from '../ingest/helpers.js';
import { MOSQUITTO_URL, startDaemonSide } from './helpers.js';

const mqttPath = createRequire(import.meta.url).resolve('mqtt');

function handleOnly(kind: 'number' | 'json' | 'deadletter', n: number): number {
  const h = ingestHarness();
  const topics = h.config.signals.filter((s) => s.min <= 0 && s.max >= 10).map((s) => readingTopic(h.config.site, s.stage, s.id));
  const payloads = topics.map((_, i) => Buffer.from(kind === 'number' ? String(i % 10) : kind === 'json' ? JSON.stringify({ value: i % 10, ts: Date.now() - 1000 }) : 'NaN'));
  const ack = (): void => undefined;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const k = i % topics.length;
    h.ingest.handle(topics[k]!, payloads[k]!, 1, ack);
    if (h.sink.readings.length > 100_000) h.sink.readings.length = 0;
    if (h.sink.deadLetters.length > 100_000) h.sink.deadLetters.length = 0;
  }
  return n / ((performance.now() - started) / 1000);
}

const workerCode = `
const { parentPort, workerData } = require('node:worker_threads');
const mqtt = require(workerData.mqttPath);
(async () => {
  const { url, topics, perClient, clients, qos, window } = workerData;
  const cs = await Promise.all(Array.from({ length: clients }, () => mqtt.connectAsync(url, { reconnectPeriod: 0 })));
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  await Promise.all(cs.map(async (c, k) => {
    let inflight = 0; let sent = 0;
    await new Promise((resolve) => {
      const pump = () => {
        while (sent < perClient && inflight < window) {
          const i = sent++; inflight++;
          c.publish(topics[(i + k) % topics.length], String(i % 10), { qos }, () => { inflight--; if (sent === perClient && inflight === 0) resolve(); else if (inflight < window / 2) pump(); });
        }
      };
      pump();
    });
  }));
  await Promise.all(cs.map((c) => c.endAsync()));
  parentPort.postMessage('done');
})();
`;

/** Rate of arrivals until all came or nothing more came for 2 s (a broker that drops messages). */
async function throughBroker(url: string, topics: string[], received: () => number, total: number, clients: number, qos: 0 | 1): Promise<string> {
  const worker = new Worker(workerCode, { eval: true, workerData: { mqttPath, url, topics, perClient: total / clients, clients, qos, window: 900 } });
  await new Promise((r) => worker.once('message', r));
  const before = received();
  const started = performance.now();
  worker.postMessage('go');
  let last = before;
  let lastAt = started;
  while (received() - before < total && performance.now() - lastAt < 2000) {
    await new Promise((r) => setTimeout(r, 5));
    if (received() !== last) {
      last = received();
      lastAt = performance.now();
    }
  }
  const got = received() - before;
  await worker.terminate();
  const rate = `${Math.round(got / ((lastAt - started) / 1000)).toLocaleString('en-US')}/s`;
  return got < total ? `${rate}, LOST ${total - got} of ${total}` : rate;
}

async function main(): Promise<void> {
  const fmt = (x: number): string => `${Math.round(x).toLocaleString('en-US')}/s`;
  handleOnly('number', 50_000);
  console.log('handle() only, bare number :', fmt(handleOnly('number', 500_000)));
  console.log('handle() only, JSON + ts   :', fmt(handleOnly('json', 300_000)));
  console.log('handle() only, dead letter :', fmt(handleOnly('deadletter', 100_000)));

  const total = 200_000;
  for (const clients of [1, 4]) {
    for (const qos of [0, 1] as const) {
      const sink = new MemorySink();
      const d = await startDaemonSide({ mode: 'embedded', sink, broker: { limits: { maxPublishesPerSecond: 10_000_000 } } });
      const topics = d.config.signals.filter((s) => s.min <= 0 && s.max >= 10).map((s) => readingTopic(d.config.site, s.stage, s.id));
      let count = 0;
      const orig = sink.appendReadings.bind(sink);
      sink.appendReadings = (r) => {
        count += r.length;
        sink.readings.length = 0;
        return orig(r);
      };
      console.log(`embedded, ${clients} client(s), QoS ${qos}:`, (await throughBroker(d.url(), topics, () => count, total, clients, qos)), `(${sink.appends.length} appends)`);
      await d.stop();
    }
  }

  const probe = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0 }).catch(() => undefined);
  if (!probe) return console.log('Mosquitto not running: external figures skipped');
  await probe.endAsync();
  for (const qos of [0, 1] as const) {
    const site = testConfig().site;
    const sub = await mqtt.connectAsync(MOSQUITTO_URL, { reconnectPeriod: 0, protocolVersion: 5, properties: { receiveMaximum: 10_000 } });
    let raw = 0;
    sub.on('message', () => (raw += 1));
    await sub.subscribeAsync(`wwtp/${site}/+/+`, { qos });
    const topics = testConfig().signals.filter((s) => s.min <= 0 && s.max >= 10).map((s) => readingTopic(site, s.stage, s.id));
    console.log(`mosquitto raw pass-through (mqtt.js subscriber), QoS ${qos}:`, (await throughBroker(MOSQUITTO_URL, topics, () => raw, 100_000, 4, qos)));
    await sub.endAsync();
    const sink = new MemorySink();
    const d = await startDaemonSide({ mode: 'external', sink });
    let count = 0;
    const orig = sink.appendReadings.bind(sink);
    sink.appendReadings = (r) => {
      count += r.length;
      sink.readings.length = 0;
      return orig(r);
    };
    const dTopics = d.config.signals.filter((s) => s.min <= 0 && s.max >= 10).map((s) => readingTopic(d.config.site, s.stage, s.id));
    console.log(`external (Mosquitto defaults -> daemon), QoS ${qos}:`, (await throughBroker(MOSQUITTO_URL, dTopics, () => count, 100_000, 4, qos)), `(${sink.appends.length} appends)`);
    await d.stop();
  }
}

await main();
