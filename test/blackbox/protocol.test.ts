import Database from 'better-sqlite3';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get as getSparkplug } from 'sparkplug-payload';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { edgeEnv, HMI, metricSum, PLC, scrape, sleep, startEdge, tempDir, uniqueSite, usersYaml, waitFor, type Edge } from './harness.js';
import { connectPacket, publishPacket, rawClient, remainingLength, subscribePacket, unsubscribePacket } from './raw-mqtt.js';

/**
 * MQTT 3.1.1 from the outside, against the embedded broker of the built daemon (issue 11, items 9
 * and 11-14; item 10, `offline` on SIGTERM, is in sigterm.test.ts): overlapping subscriptions,
 * an oversized PUBLISH refused from its declared length, silent clients and stalled publishes that
 * must not hold connection slots, the date of a Sparkplug death delivered as the MQTT will, a
 * zero-length client id with a persistent session, a PUBLISH topic checked for well-formed UTF-8
 * (1.5.3) when it arrives split over many reads, and the same check on every other UTF-8 string a
 * client sends (topic filters, client id, will topic, user name).
 */
const site = uniqueSite('p');
const S = `wwtp/${site}`;
const codec = getSparkplug('spBv1.0');
const MAX_CLIENTS = 12;

let edge: Edge;
let dir: string;
const clients: MqttClient[] = [];

async function connect(account: { username: string; password: string }, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${edge.mqttPort}`, { ...account, keepalive: 2, reconnectPeriod: 0, clientId: `bb-p-${Math.random().toString(36).slice(2)}`, ...options });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

async function refused(reason: string): Promise<number> {
  return metricSum(await scrape(edge), 'wwtp_edge_broker_connections_refused_total', { reason });
}

beforeAll(async () => {
  dir = tempDir('wwtp-bb-proto-');
  const configFile = join(dir, 'site.yaml');
  writeFileSync(
    configFile,
    [
      'broker:',
      '  embedded:',
      '    allowAnonymous: false',
      usersYaml(),
      '    limits:',
      `      maxClients: ${MAX_CLIENTS}`,
      '      maxKeepaliveSec: 60',
      '      connectTimeoutSec: 1',
      '      idleTimeoutSec: 4',
      'ingest:',
      '  sparkplug:',
      '    group: bbplant',
      '    metrics:',
      '      - { node: bbdeath, metric: DO3, stage: aerobic, signal: do_zone3 }',
      '',
    ].join('\n'),
  );
  edge = await startEdge(edgeEnv(dir, site, { WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'false' }), ['run', '--config', configFile]);
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
});

afterAll(async () => {
  if (edge) {
    edge.child.kill('SIGTERM');
    await edge.exited();
  }
});

describe('MQTT 3.1.1 against the embedded broker (built daemon)', () => {
  it('overlapping subscriptions deliver one copy, at most at the highest granted QoS (3.3.5)', async () => {
    const hmi = await connect(HMI);
    const got: { topic: string; qos: number }[] = [];
    hmi.on('message', (topic, _payload, packet) => got.push({ topic, qos: packet.qos }));
    await hmi.subscribeAsync({ [`${S}/hmi/#`]: { qos: 2 }, [`${S}/hmi/+/+/+`]: { qos: 1 }, [`${S}/#`]: { qos: 1 }, [`${S}/edge/#`]: { qos: 0 } });
    const operator = await connect(HMI);
    await operator.publishAsync(`${S}/hmi/alarms/bb.x/ack`, JSON.stringify({ by: 'op' }), { qos: 2 });
    // a dead letter the daemon publishes itself, matched by `${S}/#` and `${S}/edge/#`
    const plc = await connect(PLC);
    for (let i = 0; i < 5; i++) await plc.publishAsync(`${S}/aerobic/do`, 'not a number', { qos: 1 });
    await waitFor('deliveries', () => got.filter((g) => g.topic.endsWith('/edge/deadletter')).length >= 5 || undefined, 10_000);
    await sleep(500);
    const commands = got.filter((g) => g.topic === `${S}/hmi/alarms/bb.x/ack`);
    expect(commands.length).toBe(1);
    expect(commands[0]?.qos).toBeLessThanOrEqual(2);
    const letters = got.filter((g) => g.topic === `${S}/edge/deadletter`);
    expect(letters.length).toBe(5);
    for (const l of letters) expect(l.qos).toBeLessThanOrEqual(1);
  });

  it('refuses an oversized PUBLISH from its declared length, before reading it (item 11)', async () => {
    const before = await refused('packet_too_large');
    const raw = await rawClient(edge.mqttPort);
    raw.socket.write(connectPacket({ clientId: 'bb-big', ...PLC }));
    expect(await raw.connack(5_000)).toBe(0);
    // a 200 MB PUBLISH: header first, then its body 256 KB at a time until the broker closes
    const topic = Buffer.from(`${S}/aerobic/do`);
    const declared = 200 * 1_048_576;
    raw.socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(declared), Buffer.from([0, topic.length]), topic]));
    let written = 0;
    const chunk = Buffer.alloc(262_144, 0x20);
    while (!raw.closed() && written < 32 * 1_048_576) {
      if (!raw.socket.write(chunk)) await Promise.race([new Promise((r) => raw.socket.once('drain', r)), raw.waitClosed(1_000)]);
      written += chunk.length;
    }
    expect(await raw.waitClosed(5_000)).toBe(true);
    expect(written).toBeLessThan(32 * 1_048_576);
    expect(await refused('packet_too_large')).toBe(before + 1);
    await waitFor('the refusal logged', () => edge.logs.some((l) => l.includes('"connection refused"') && l.includes('packet_too_large')) || undefined, 5_000);
  });

  it('reads a PUBLISH topic that arrives a byte at a time: a well-formed one is taken, an ill-formed one closes the connection (1.5.3)', async () => {
    const before = await refused('invalid_topic');
    const trickle = async (bytes: Buffer): Promise<Awaited<ReturnType<typeof rawClient>>> => {
      const raw = await rawClient(edge.mqttPort);
      raw.socket.setNoDelay(true);
      raw.socket.write(connectPacket({ clientId: `bb-trickle-${Math.random().toString(36).slice(2)}`, ...PLC }));
      expect(await raw.connack(5_000)).toBe(0);
      for (const byte of bytes) {
        if (raw.closed()) break;
        raw.socket.write(Buffer.from([byte]));
        await sleep(2);
      }
      return raw;
    };
    const good = await trickle(publishPacket(`${S}/aerobic/do`, JSON.stringify({ value: 2.1, ts: Date.now() - 1_000 }), 1));
    await waitFor('PUBACK of the trickled publish', () => good.types().includes(4) || undefined, 5_000);
    expect(good.closed()).toBe(false);
    good.socket.destroy();
    const bad = await trickle(publishPacket(Buffer.concat([Buffer.from(`${S}/aerobic/`), Buffer.from([0xe2, 0x28, 0xa1])]), '1', 1));
    expect(await bad.waitClosed(5_000)).toBe(true);
    expect(bad.types()).not.toContain(4);
    expect(await refused('invalid_topic')).toBe(before + 1);
  });

  it('closes a connection whose topic filter, client id, will topic or user name is ill-formed UTF-8 or holds U+0000, and takes well-formed ones (1.5.3)', async () => {
    const badUtf8 = Buffer.from([0xe2, 0x28, 0xa1]);
    const surrogate = Buffer.from([0xed, 0xa0, 0x80]);
    const nul = Buffer.from([0]);
    const id = (): string => `bb-utf-${Math.random().toString(36).slice(2)}`;
    const session = async (): Promise<Awaited<ReturnType<typeof rawClient>>> => {
      const raw = await rawClient(edge.mqttPort);
      raw.socket.write(connectPacket({ clientId: id(), ...HMI }));
      expect(await raw.connack(5_000)).toBe(0);
      return raw;
    };
    const filtersBefore = await refused('invalid_topic');
    // A well-formed filter (with a non-ASCII level) gets its SUBACK and UNSUBACK; the connection stays.
    const good = await session();
    good.socket.write(subscribePacket([`${S}/aerobic/+`, `${S}/stufe-\u00fc/#`]));
    await waitFor('SUBACK', () => good.types().includes(9) || undefined, 5_000);
    good.socket.write(unsubscribePacket([`${S}/stufe-\u00fc/#`]));
    await waitFor('UNSUBACK', () => good.types().includes(11) || undefined, 5_000);
    expect(good.closed()).toBe(false);
    good.socket.destroy();
    // An ill-formed filter, even second in its packet (and in a packet sent a byte at a time), closes the connection without a SUBACK.
    for (const [n, bad] of [Buffer.concat([Buffer.from(`${S}/`), badUtf8]), Buffer.concat([Buffer.from(`${S}/`), surrogate, Buffer.from('/#')]), Buffer.concat([Buffer.from(`${S}/a`), nul])].entries()) {
      const raw = await session();
      const packet = subscribePacket([`${S}/aerobic/+`, bad]);
      if (n === 1) {
        raw.socket.setNoDelay(true);
        for (const byte of packet) {
          if (raw.closed()) break;
          raw.socket.write(Buffer.from([byte]));
          await sleep(2);
        }
      } else raw.socket.write(packet);
      expect(await raw.waitClosed(5_000)).toBe(true);
      expect(raw.types()).not.toContain(9);
    }
    const unsub = await session();
    unsub.socket.write(unsubscribePacket([Buffer.concat([Buffer.from(`${S}/`), badUtf8])]));
    expect(await unsub.waitClosed(5_000)).toBe(true);
    expect(unsub.types()).not.toContain(11);
    expect(await refused('invalid_topic')).toBe(filtersBefore + 4);

    const stringsBefore = await refused('invalid_string');
    const willBefore = await refused('invalid_topic');
    // A client id that aedes would decode to the id of a connected client must not take over its session.
    const holder = await connect(HMI, { clientId: 'bb-utf-holder-\ufffd(\ufffd' });
    for (const options of [
      { clientId: Buffer.concat([Buffer.from('bb-utf-holder-'), badUtf8]), ...HMI },
      { clientId: Buffer.concat([Buffer.from('bb-utf-'), nul]), ...HMI },
      { clientId: id(), username: Buffer.concat([Buffer.from('bb-hmi'), surrogate]), password: HMI.password },
      { clientId: id(), ...HMI, will: { topic: Buffer.concat([Buffer.from(`${S}/will/`), badUtf8]), message: 'gone' } },
    ]) {
      const raw = await rawClient(edge.mqttPort);
      raw.socket.write(connectPacket(options));
      expect(await raw.waitClosed(5_000)).toBe(true);
      expect(raw.types()).not.toContain(2);
    }
    expect(await refused('invalid_string')).toBe(stringsBefore + 3);
    expect(await refused('invalid_topic')).toBe(willBefore + 1);
    await sleep(300);
    expect(holder.connected).toBe(true);
    // A well-formed non-ASCII client id and will topic are taken.
    const fine = await rawClient(edge.mqttPort);
    fine.socket.write(connectPacket({ clientId: `bb-utf-\u00e9t\u00e9-${Math.random().toString(36).slice(2)}`, ...HMI, will: { topic: `${S}/will/\u00fc`, message: 'gone' } }));
    expect(await fine.connack(5_000)).toBe(0);
    fine.socket.destroy();
    await waitFor('the refusals logged', () => edge.logs.some((l) => l.includes('"connection refused"') && l.includes('CONNECT client id is not well-formed UTF-8')) || undefined, 5_000);
  });

  it('refuses a keepalive over the maximum with identifier rejected, counted, and takes keepalive 0 (item 12)', async () => {
    const before = await refused('keepalive');
    for (const [keepaliveSec, code] of [[61, 2], [0, 0]] as const) {
      const raw = await rawClient(edge.mqttPort);
      raw.socket.write(connectPacket({ clientId: `bb-ka-${keepaliveSec}`, keepaliveSec, ...PLC }));
      expect(await raw.connack(5_000)).toBe(code);
      raw.socket.destroy();
    }
    expect(await refused('keepalive')).toBe(before + 1);
  });

  it('closes connections that send no CONNECT, go silent or stall a publish, so they hold no slot (item 12)', async () => {
    // every slot free before they fill them
    await waitFor('no client left', async () => (metricSum(await scrape(edge), 'wwtp_edge_mqtt_clients') === 0 ? true : undefined), 10_000);
    const before = { connect: await refused('connect_timeout'), idle: await refused('idle_timeout') };
    const silent = await Promise.all(Array.from({ length: 20 }, () => rawClient(edge.mqttPort)));
    const quiet = await Promise.all(
      Array.from({ length: MAX_CLIENTS }, async (_, i) => {
        const raw = await rawClient(edge.mqttPort);
        // keepalive 0 (none) on every other one: the idle timeout bounds those too
        raw.socket.write(connectPacket({ clientId: `bb-quiet-${i}`, keepaliveSec: i % 4 < 2 ? 0 : 60, ...PLC }));
        await raw.connack(5_000);
        // half of them start a 500 KB publish and stall after its header
        if (i % 2 === 0) raw.socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(500_000), Buffer.from([0, 3]), Buffer.from('a/b')]));
        return raw;
      }),
    );
    // every slot is taken: a PLC is refused (server unavailable) while they hold
    const locked = await rawClient(edge.mqttPort);
    locked.socket.write(connectPacket({ clientId: 'bb-locked', ...PLC }));
    expect(await locked.connack(5_000)).toBe(3);
    locked.socket.destroy();
    const closed = await Promise.all([...silent, ...quiet].map((r) => r.waitClosed(10_000)));
    expect(closed.every(Boolean)).toBe(true);
    const plc = await connect(PLC);
    await plc.publishAsync(`${S}/aerobic/do`, '2.5', { qos: 1 });
    expect(await refused('connect_timeout')).toBe(before.connect + 20);
    expect(await refused('idle_timeout')).toBe(before.idle + MAX_CLIENTS);
  }, 30_000);

  it('rejects a zero-length client id with cleanSession 0, accepts it with cleanSession 1 (3.1.3.1, item 14)', async () => {
    const persistent = await rawClient(edge.mqttPort);
    persistent.socket.write(connectPacket({ clientId: '', cleanSession: false, ...PLC }));
    expect(await persistent.connack(5_000)).toBe(2);
    persistent.socket.destroy();
    const clean = await rawClient(edge.mqttPort);
    clean.socket.write(connectPacket({ clientId: '', cleanSession: true, ...PLC }));
    expect(await clean.connack(5_000)).toBe(0);
    clean.socket.destroy();
  });

  it('dates a Sparkplug death sent as the MQTT will no earlier than the node last data (item 13)', async () => {
    if (!codec) throw new Error('no Sparkplug codec');
    const born = Date.now() - 5_000;
    const will = Buffer.from(codec.encodePayload({ timestamp: born, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] }));
    // a keepalive long enough that a busy machine's stalls do not end the session before the node drops off
    const node = await connect(PLC, { keepalive: 30, will: { topic: 'spBv1.0/bbplant/NDEATH/bbdeath', payload: will, qos: 1, retain: false } });
    await node.publishAsync('spBv1.0/bbplant/NBIRTH/bbdeath', Buffer.from(codec.encodePayload({ timestamp: born, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, { name: 'DO3', alias: 1, type: 'Double', value: 2, timestamp: born }] })), { qos: 0 });
    await sleep(1_000);
    const last = Date.now();
    await node.publishAsync('spBv1.0/bbplant/NDATA/bbdeath', Buffer.from(codec.encodePayload({ timestamp: last, seq: 1, metrics: [{ alias: 1, type: 'Double', value: 2.2, timestamp: last }] })), { qos: 1 });
    // the node drops off the network: no DISCONNECT, the broker sends its will
    node.stream.destroy();
    const db = new Database(join(dir, 'edge.sqlite'), { readonly: true });
    try {
      const bad = await waitFor('the death mark', () => db.prepare("SELECT ts FROM readings WHERE stage = 'aerobic' AND signal = 'do_zone3' AND quality = 'bad'").pluck().get() as number | undefined, 10_000);
      expect(bad).toBeGreaterThanOrEqual(last);
      const latest = db.prepare("SELECT quality FROM readings WHERE stage = 'aerobic' AND signal = 'do_zone3' ORDER BY ts DESC LIMIT 1").pluck().get();
      expect(latest).toBe('bad');
    } finally {
      db.close();
    }
  });
});
