import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffMs } from '../../src/broker/external.js';
import { createBroker } from '../../src/broker/index.js';
import { OfflineQueue, type QueuedPublish } from '../../src/broker/offline-queue.js';
import { outTopic, readingTopic } from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { counterValue, testConfig } from '../ingest/helpers.js';
import { burst, RECOMMENDED_LIMITS } from '../../bench/external/burst.js';
import { client, mosquittoAvailable, sleep, startDaemonSide, until, type DaemonSide } from './helpers.js';

const open: { daemons: DaemonSide[]; clients: MqttClient[] } = { daemons: [], clients: [] };
afterEach(async () => {
  await Promise.all(open.clients.map((c) => c.endAsync(true)));
  open.clients = [];
  for (const d of open.daemons) await d.stop();
  open.daemons = [];
});

describe('external broker (Mosquitto at 127.0.0.1:1883)', () => {
  it('leaves an uncommitted reading unacknowledged: the next session gets it again', async (t) => {
    if (!(await mosquittoAvailable())) return t.skip();
    const first = await startDaemonSide({ mode: 'external', drainTimeoutMs: 100 });
    first.sink.mode = 'hold';
    const plc = await client(first.url());
    open.clients.push(plc);
    await plc.publishAsync(readingTopic(first.config.site, 'aerobic', 'do'), '2.75', { qos: 1 });
    await until(() => first.sink.held.length === 1, 'append held');
    // The daemon goes away before its commit: no PUBACK may have left.
    await first.broker.stop();
    first.sink.held[0]?.resolve();
    const second = await startDaemonSide({ mode: 'external', config: first.config });
    open.daemons.push(second);
    await until(() => second.sink.readings.length === 1, 'redelivery to the persistent session');
    expect(second.sink.readings[0]).toMatchObject({ signal: 'do', value: 2.75 });
  });

  it('ignores its own outputs coming back through the subscription', async (t) => {
    if (!(await mosquittoAvailable())) return t.skip();
    const d = await startDaemonSide({ mode: 'external' });
    open.daemons.push(d);
    const site = d.config.site;
    const outputs: [string, string][] = [
      [outTopic(site, 'status', {}), 'online'],
      [outTopic(site, 'deadletter', {}), '{"topic":"x","reason":"unparseable","payload":"","ts":1}'],
      [outTopic(site, 'alarm', { alarmId: 'fallback.do' }), '{}'],
      [outTopic(site, 'anomaly', { stage: 'aerobic' }), '{}'],
      [outTopic(site, 'setpoint', { stage: 'aerobic', loop: 'do' }), '{}'],
    ];
    for (const [topic, payload] of outputs) await d.broker.publish(topic, payload, { qos: 1, retain: false });
    await until(() => d.sink.readings.length === 0, 'nothing stored');
    const ignored = async () => counterValue(d.metrics, 'wwtp_edge_ingest_events_total', { event: 'ignored:own_output' });
    const started = Date.now();
    while ((await ignored()) < 4 && Date.now() - started < 5000) await sleep(20);
    expect(await ignored()).toBe(4);
    expect(d.sink.deadLetters).toHaveLength(0);
  });

  it('keeps a bounded offline queue while the broker is unreachable, dropping the oldest', async () => {
    const config = testConfig({ broker: { mode: 'external', external: { url: 'mqtt://127.0.0.1:1', maxOfflineQueue: 3, reconnectMinMs: 50, reconnectMaxMs: 100 } } });
    const metrics = createMetrics(false);
    const broker = createBroker(config.broker, { site: config.site, logger: silentLogger(), metrics, onMessage: (_m, ack) => ack(true) });
    await broker.start(new AbortController().signal);
    expect(broker.connected()).toBe(false);
    const results = Array.from({ length: 5 }, (_, i) => broker.publish(`wwtp/${config.site}/edge/status`, String(i), { qos: 1, retain: true }).then(() => 'sent', (e: Error) => e.message));
    await sleep(50);
    await broker.stop();
    const outcome = await Promise.all(results);
    expect(outcome.slice(0, 2).every((m) => m.includes('offline queue full'))).toBe(true);
    expect(outcome.slice(2).every((m) => m.includes('broker stopped'))).toBe(true);
    expect(await counterValue(metrics, 'wwtp_edge_mqtt_offline_dropped_total')).toBe(2);
    expect(await counterValue(metrics, 'wwtp_edge_mqtt_reconnects_total')).toBeGreaterThan(0);
  });
});

describe('external broker: pure parts', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(0, 500, 30_000, 1)).toBe(500);
    expect(backoffMs(3, 500, 30_000, 1)).toBe(4000);
    expect(backoffMs(20, 500, 30_000, 1)).toBe(30_000);
    expect(backoffMs(3, 500, 30_000, 0)).toBe(2000);
  });

  it('offline queue keeps order and drops the oldest', () => {
    const dropped: string[] = [];
    const q = new OfflineQueue(2, (item) => dropped.push(item.topic));
    const item = (topic: string): QueuedPublish => ({ topic, payload: '', qos: 0, retain: false, resolve: () => undefined, reject: () => undefined });
    for (const t of ['a', 'b', 'c', 'd']) q.push(item(t));
    expect(dropped).toEqual(['a', 'b']);
    expect(q.takeAll().map((i) => i.topic)).toEqual(['c', 'd']);
    expect(q.size).toBe(0);
  });
});

describe('external broker: last will', () => {
  it('leaves "offline" retained on the status topic when its connection drops, then reconnects', async (t) => {
    if (!(await mosquittoAvailable())) return t.skip();
    const d = await startDaemonSide({ mode: 'external' });
    open.daemons.push(d);
    const changes: boolean[] = [];
    d.broker.onConnectionChange((c) => changes.push(c));
    const statusTopic = outTopic(d.config.site, 'status', {});
    await d.broker.publish(statusTopic, 'online', { qos: 1, retain: true });
    const watcher = await client(d.url());
    open.clients.push(watcher);
    const statuses: string[] = [];
    watcher.on('message', (_t, p) => statuses.push(p.toString()));
    await watcher.subscribeAsync(statusTopic, { qos: 1 });
    await until(() => statuses.includes('online'), 'online');
    // Another connection with the daemon's client id takes its session over: the broker drops the
    // daemon's connection without a DISCONNECT, as on a crash or a cut cable.
    const usurper = await client(d.url(), { clientId: `wwtp-edge-test-${d.config.site}`, clean: true });
    await until(() => statuses.includes('offline'), 'last will');
    await usurper.endAsync(true);
    await until(() => d.broker.connected() && changes.includes(false) && changes.at(-1) === true, 'reconnected');
    await d.broker.publish(statusTopic, '', { qos: 1, retain: true });
  });
});

describe('external broker with README limits (the daemon as a child process, a private Mosquitto)', () => {
  it('stores every reading of a 50,000-reading QoS 1 burst', async () => {
    const r = await burst(RECOMMENDED_LIMITS, 50_000);
    expect(r).toMatchObject({ published: 50_000, pubacked: 50_000, stored: 50_000, brokerDropped: 0 });
  }, 90_000);

  it('acknowledges nothing before its commit: killed -9 mid-burst, the restarted daemon still gets every reading', async () => {
    const r = await burst(RECOMMENDED_LIMITS, 50_000, { kill9AfterStored: 15_000 });
    expect(r.restarted).toBe(true);
    expect(r).toMatchObject({ pubacked: 50_000, stored: 50_000, brokerDropped: 0 });
  }, 120_000);
});
