import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { readingTopic } from '../../src/contract/topics.js';
import { counterValue } from '../ingest/helpers.js';
import { client, openedPerTest, sleep, until } from './helpers.js';
import { connackCode, connectPacket, publishHeader, publishPacket, rawClient, type RawClient } from './raw.js';

/**
 * The embedded broker over a real TCP socket, driven by hand-written MQTT 3.1.1 packets (what a
 * client library will not send) and by MQTT.js.
 */
const { daemon, connect } = openedPerTest();
const refused = (d: Awaited<ReturnType<typeof daemon>>, reason: string) => counterValue(d.metrics, 'wwtp_edge_broker_connections_refused_total', { reason });
const port = (d: Awaited<ReturnType<typeof daemon>>) => d.broker.address().tcpPort;

async function connected(p: number, opts: Parameters<typeof connectPacket>[0]): Promise<RawClient> {
  const raw = await rawClient(p);
  await raw.write(connectPacket(opts));
  await until(() => connackCode(raw.received()) !== undefined || raw.isClosed(), 'CONNACK');
  return raw;
}

describe('embedded broker: CONNECT checks (MQTT 3.1.1 3.1.3.1, max keepalive)', () => {
  it('rejects a zero-length client id without a clean session (identifier rejected) and takes it with one', async () => {
    const d = await daemon();
    const persistent = await connected(port(d), { clientId: '', clean: false });
    expect(connackCode(persistent.received())).toBe(2);
    await persistent.closed;
    const clean = await connected(port(d), { clientId: '', clean: true });
    expect(connackCode(clean.received())).toBe(0);
    clean.socket.destroy();
    expect(await refused(d, 'client_id')).toBe(1);
  });

  it('refuses a keepalive above maxKeepaliveSec, and takes one within it or none (keepalive 0)', async () => {
    const d = await daemon({ limits: { maxKeepaliveSec: 60 } });
    const raw = await connected(port(d), { clientId: 'ka-61', keepalive: 61 });
    expect(connackCode(raw.received())).toBe(2);
    await raw.closed;
    for (const keepalive of [60, 0]) {
      const ok = await connected(port(d), { clientId: `ka-${keepalive}`, keepalive });
      expect(connackCode(ok.received())).toBe(0);
      ok.socket.destroy();
    }
    expect(await refused(d, 'keepalive')).toBe(1);
  });
});

describe('embedded broker: silent connections give their slot back', () => {
  it('closes a connection that sends no CONNECT within connectTimeoutSec', async () => {
    const d = await daemon({ limits: { connectTimeoutSec: 0.3 } });
    const raw = await rawClient(port(d));
    await raw.closed;
    expect(await refused(d, 'connect_timeout')).toBe(1);
  });

  it('closes a client silent past its keepalive, and one that completes no packet for idleTimeoutSec', async () => {
    const d = await daemon({ limits: { idleTimeoutSec: 3, maxKeepaliveSec: 60, maxClients: 2 } });
    // Keepalive 1 s, then nothing: aedes drops it after 1.5 s.
    const quiet = await connected(port(d), { clientId: 'quiet', keepalive: 1 });
    // Keepalive 60 s, then the first bytes of a publish that never completes: the idle timeout drops it.
    const stalled = await connected(port(d), { clientId: 'stalled', keepalive: 60 });
    await stalled.write(publishHeader(readingTopic(d.config.site, 'aerobic', 'do'), 500_000));
    await stalled.write(Buffer.alloc(1000, 0x31));
    // Both slots are taken...
    await expect(client(d.url())).rejects.toThrow();
    await Promise.all([quiet.closed, stalled.closed]);
    // ...and given back.
    const plc = await connect(d.url());
    expect(plc.connected).toBe(true);
    expect(await refused(d, 'keepalive_timeout')).toBe(1);
    expect(await refused(d, 'idle_timeout')).toBe(1);
  });
});

describe('embedded broker: a frozen subscriber', () => {
  it('is disconnected after drainTimeoutSec, and the daemon\'s outputs reach the other HMIs', async () => {
    const d = await daemon({ limits: { drainTimeoutSec: 1 } });
    const site = d.config.site;
    // Subscribes to everything, then reads nothing (its socket and the kernel buffers fill up).
    const frozen = await connected(port(d), { clientId: 'frozen', keepalive: 300 });
    const filter = Buffer.from(`wwtp/${site}/#`);
    await frozen.write(Buffer.concat([Buffer.from([0x82, 5 + filter.length, 0, 1, 0, filter.length]), filter, Buffer.from([1])]));
    await until(() => frozen.received().length >= 9, 'SUBACK');
    frozen.socket.pause();
    const hmi = await connect(d.url());
    const got = received(hmi);
    await hmi.subscribeAsync(`wwtp/${site}/anomaly/#`, { qos: 1 });
    const big = 'x'.repeat(60_000);
    const outputs = Array.from({ length: 400 }, () => d.broker.publish(`wwtp/${site}/anomaly/aerobic`, big, { qos: 1, retain: false }));
    await Promise.all(outputs);
    await until(() => got.length === 400, 'every output delivered to the live HMI', 20_000);
    expect(await refused(d, 'drain_timeout')).toBe(1);
  });
});

describe('embedded broker: wills of dropped clients', () => {
  it('takes in the will of a client dropped for its keepalive', async () => {
    const d = await daemon();
    const raw = await connected(port(d), { clientId: 'pump-plc', keepalive: 1, will: { topic: readingTopic(d.config.site, 'primary', 'sludge_pump'), payload: '0', qos: 1 } });
    expect(connackCode(raw.received())).toBe(0);
    await raw.closed;
    await until(() => d.sink.readings.length === 1, 'will stored as a reading');
    expect(d.sink.readings[0]).toMatchObject({ stage: 'primary', signal: 'sludge_pump', value: 0 });
    expect(await refused(d, 'keepalive_timeout')).toBe(1);
  });
});

describe('embedded broker: packets refused from their header', () => {
  it('closes a connection whose PUBLISH declares more than maxPacketBytes, before reading its body', async () => {
    const d = await daemon({ limits: { maxPacketBytes: 100_000 } });
    const raw = await connected(port(d), { clientId: 'big' });
    await raw.write(publishHeader(readingTopic(d.config.site, 'aerobic', 'do'), 250 * 1024 * 1024));
    await raw.closed;
    expect(await refused(d, 'packet_too_large')).toBe(1);
    // A payload over maxPayloadBytes but within maxPacketBytes is still read and dead-lettered.
    const plc = await connect(d.url());
    await plc.publishAsync(readingTopic(d.config.site, 'aerobic', 'do'), Buffer.alloc(70_000, 0x31), { qos: 1 });
    expect(d.sink.deadLetters.map((x) => x.reason)).toEqual(['oversized']);
  });

  it('closes a connection whose packet header declares a remaining length longer than 4 bytes', async () => {
    const d = await daemon();
    const raw = await connected(port(d), { clientId: 'malformed' });
    await raw.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    await raw.closed;
    expect(await refused(d, 'malformed_header')).toBe(1);
  });

  it('closes, counts and logs a publish to a wildcard or an empty topic', async () => {
    const d = await daemon();
    for (const topic of ['wwtp/x/+', 'wwtp/x/#', '']) {
      const raw = await connected(port(d), { clientId: `bad-${topic.length}-${topic.at(-1) ?? ''}` });
      await raw.write(publishPacket(topic, '1'));
      await raw.closed;
    }
    expect(await refused(d, 'invalid_topic')).toBe(3);
    expect(d.sink.readings).toHaveLength(0);
  });
});

describe('embedded broker: publish rate is back-pressure, not loss', () => {
  it('slows a client over maxPublishesPerSecond and stores every one of its publishes', async () => {
    const d = await daemon({ limits: { maxPublishesPerSecond: 100 } });
    const plc = await connect(d.url());
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => plc.publishAsync(readingTopic(d.config.site, 'influent', 'flow'), String(i), { qos: i % 2 === 0 ? 1 : 0 })));
    await until(() => d.sink.readings.length === n, 'every publish stored');
    expect(d.sink.deadLetters).toEqual([]);
    expect(d.sink.readings.map((r) => r.value)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(await counterValue(d.metrics, 'wwtp_edge_broker_limit_hits_total', { limit: 'publish_rate' })).toBeGreaterThan(0);
  });
});

function received(c: MqttClient): { topic: string; qos: number; payload: string }[] {
  const got: { topic: string; qos: number; payload: string }[] = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, qos: packet.qos, payload: payload.toString() }));
  return got;
}

describe('embedded broker: overlapping subscriptions (MQTT 3.1.1 3.3.5)', () => {
  it('delivers one copy of a reading to a client with two matching subscriptions', async () => {
    const d = await daemon();
    const site = d.config.site;
    const hmi = await connect(d.url());
    const got = received(hmi);
    await hmi.subscribeAsync({ [`wwtp/${site}/#`]: { qos: 1 }, [`wwtp/${site}/aerobic/+`]: { qos: 0 } });
    const plc = await connect(d.url());
    for (let i = 0; i < 10; i += 1) await plc.publishAsync(readingTopic(site, 'aerobic', 'do'), String(i), { qos: 1 });
    await until(() => d.sink.readings.length === 10, 'stored');
    await sleep(200);
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });

  it('delivers a QoS 2 publish at most at the QoS of the matching subscriptions, wildcards included (3.8.4)', async () => {
    const d = await daemon();
    const site = d.config.site;
    const topic = readingTopic(site, 'aerobic', 'do');
    const cases: [Record<string, { qos: 0 | 1 | 2 }>, number][] = [
      [{ [`wwtp/${site}/#`]: { qos: 1 } }, 1],
      [{ [`wwtp/${site}/+/do`]: { qos: 0 } }, 0],
      [{ [`wwtp/${site}/#`]: { qos: 2 }, [`wwtp/${site}/aerobic/+`]: { qos: 1 } }, 2],
      [{ [topic]: { qos: 1 }, [`wwtp/${site}/aerobic/#`]: { qos: 1 } }, 1],
    ];
    const hmis = await Promise.all(cases.map(async ([subscriptions]) => {
      const hmi = await connect(d.url());
      const got = received(hmi);
      await hmi.subscribeAsync(subscriptions);
      return got;
    }));
    const plc = await connect(d.url());
    await plc.publishAsync(topic, '2.5', { qos: 2 });
    await until(() => hmis.every((got) => got.length >= 1), 'delivered to every HMI');
    await sleep(200);
    expect(hmis.map((got) => got.map((m) => m.qos))).toEqual(cases.map(([, qos]) => [qos]));
  });

  it('delivers each retained alarm once to an HMI on wwtp/# and wwtp/{site}/alarms/#, amid other outputs and PLC traffic', async () => {
    const d = await daemon();
    const site = d.config.site;
    const hmi = await connect(d.url());
    const got = received(hmi);
    await hmi.subscribeAsync({ 'wwtp/#': { qos: 1 }, [`wwtp/${site}/alarms/#`]: { qos: 1 } });
    const plc = await connect(d.url());
    const sends: Promise<unknown>[] = [];
    for (let k = 0; k < 30; k += 1) {
      sends.push(plc.publishAsync(readingTopic(site, "aerobic", "do"), String(k % 10), { qos: (k % 2) as 0 | 1 }));
      sends.push(d.broker.publish(`wwtp/${site}/alarms/sensor.aerobic.do.deviation`, `{"k":${k}}`, { qos: 1, retain: true }));
      sends.push(d.broker.publish(`wwtp/${site}/anomaly/aerobic`, `{"k":${k}}`, { qos: 1, retain: false }));
      sends.push(d.broker.publish(`wwtp/${site}/deadletter`, `{"k":${k}}`, { qos: 0, retain: false }));
    }
    await Promise.all(sends);
    const kinds = (part: string) => got.filter((m) => m.topic.includes(part)).map((m) => m.payload);
    await until(() => kinds('/alarms/').length >= 30 && kinds('/anomaly/').length >= 30 && kinds('/deadletter').length >= 30, 'outputs delivered', 5_000);
    await sleep(200);
    const expected = Array.from({ length: 30 }, (_, k) => `{"k":${k}}`);
    expect(kinds('/alarms/')).toEqual(expected);
    expect(kinds('/anomaly/')).toEqual(expected);
    expect(kinds('/deadletter')).toEqual(expected);
    expect(got.filter((m) => m.topic.includes('/aerobic/do'))).toHaveLength(30);
  });
  it('delivers every reading of four PLCs (QoS 0 and 1, one retaining) and every output to such an HMI', async () => {
    const d = await daemon();
    const site = d.config.site;
    const hmi = await connect(d.url());
    const got = received(hmi);
    await hmi.subscribeAsync({ [`wwtp/${site}/#`]: { qos: 1 }, [`wwtp/${site}/alarms/#`]: { qos: 1 } });
    const plcs = await Promise.all([0, 1, 2, 3].map(() => connect(d.url())));
    const sends: Promise<unknown>[] = [];
    const n = 500;
    for (let k = 0; k < n; k += 1) {
      plcs.forEach((plc, i) => sends.push(plc.publishAsync(readingTopic(site, 'aerobic', 'do'), JSON.stringify({ value: k % 10, ts: Date.now() - 100_000 + k * 4 + i }), { qos: (i % 2) as 0 | 1, retain: i === 3 })));
      if (k % 5 === 0) {
        sends.push(d.broker.publish(`wwtp/${site}/alarms/a${k % 7}`, `{"k":${k}}`, { qos: 1, retain: true }));
        sends.push(d.broker.publish(`wwtp/${site}/anomaly/aerobic`, `{"k":${k}}`, { qos: 1, retain: false }));
        sends.push(d.broker.publish(`wwtp/${site}/edge/deadletter`, `{"k":${k}}`, { qos: 0, retain: false }));
      }
      if (k % 50 === 0) await sleep(1);
    }
    await Promise.all(sends);
    await until(() => d.sink.readings.length === n * 4, 'stored', 20_000);
    const count = (part: string) => got.filter((m) => m.topic.includes(part)).length;
    await until(() => count('/aerobic/do') >= n * 4 && count('/alarms/') >= n / 5 && count('/anomaly/') >= n / 5 && count('/edge/deadletter') >= n / 5, 'everything forwarded', 10_000);
    await sleep(200);
    expect([count('/aerobic/do'), count('/alarms/'), count('/anomaly/'), count('/edge/deadletter')]).toEqual([n * 4, n / 5, n / 5, n / 5]);
  });
});
