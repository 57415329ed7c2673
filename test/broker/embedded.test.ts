import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/broker/index.js';
import { outTopic, readingTopic } from '../../src/contract/topics.js';
import { counterValue } from '../ingest/helpers.js';
import { client, openedPerTest, sleep, startDaemonSide, until } from './helpers.js';

const { daemon, track, connect } = openedPerTest();

const users = async () => [
  { username: 'plc1', passwordHash: await hashPassword('plc-secret'), role: 'plc' },
  { username: 'hmi1', passwordHash: await hashPassword('hmi-secret'), role: 'hmi' },
  { username: 'view1', passwordHash: await hashPassword('view-secret'), role: 'viewer' },
];

describe('embedded broker: acknowledgement', () => {
  it('sends the PUBACK only after the store resolved the append', async () => {
    const d = await daemon();
    d.sink.mode = 'hold';
    const plc = await connect(d.url());
    let acked = false;
    plc.publish(readingTopic(d.config.site, 'aerobic', 'do'), '2', { qos: 1 }, () => (acked = true));
    await until(() => d.sink.held.length === 1, 'append in flight');
    await sleep(300);
    expect(acked).toBe(false);
    d.sink.held[0]?.resolve();
    await until(() => acked, 'PUBACK after the commit');
    expect(d.sink.readings).toHaveLength(1);
  });
});

describe('embedded broker: shutdown drains held acknowledgements', () => {
  it('still sends the PUBACK of a reading whose commit lands while intake stops', async () => {
    const d = track(await startDaemonSide({ mode: 'embedded', drainTimeoutMs: 10_000 }));
    d.sink.mode = 'hold';
    const plc = await connect(d.url());
    let acked = false;
    plc.publish(readingTopic(d.config.site, 'aerobic', 'do'), '2', { qos: 1 }, (error) => (acked = !error));
    await until(() => d.sink.held.length === 1, 'append in flight');
    const stopped = d.broker.stopIntake();
    await sleep(100);
    d.sink.held[0]?.resolve();
    await stopped;
    await until(() => acked, 'PUBACK before the connection closed');
    expect(d.sink.readings).toHaveLength(1);
  });
});

describe('embedded broker: users and roles', () => {
  it('hashes passwords with scrypt and checks them', async () => {
    const hash = await hashPassword('s3cret');
    expect(hash).toMatch(/^scrypt\$[0-9a-f]+\$[0-9a-f]+$/);
    expect(await verifyPassword('s3cret', hash)).toBe(true);
    expect(await verifyPassword('wrong', hash)).toBe(false);
    expect(await verifyPassword('s3cret', 'scrypt$zz$')).toBe(false);
  });

  it('refuses bad passwords and anonymous clients when anonymous access is off', async () => {
    const d = await daemon({ allowAnonymous: false, users: await users() });
    await expect(client(d.url())).rejects.toThrow();
    await expect(client(d.url(), { username: 'plc1', password: 'nope' })).rejects.toThrow();
    await expect(client(d.url(), { username: 'ghost', password: 'plc-secret' })).rejects.toThrow();
    const ok = await connect(d.url(), { username: 'plc1', password: 'plc-secret' });
    expect(ok.connected).toBe(true);
  });

  it('lets each role publish only its topics; daemon-only topics are refused for everyone', async () => {
    const d = await daemon({ allowAnonymous: false, users: await users() });
    const site = d.config.site;
    const plc = await connect(d.url(), { username: 'plc1', password: 'plc-secret' });
    const hmi = await connect(d.url(), { username: 'hmi1', password: 'hmi-secret' });
    const viewer = await connect(d.url(), { username: 'view1', password: 'view-secret' });
    const spy = await connect(d.url(), { username: 'view1', password: 'view-secret' });
    const forwarded: string[] = [];
    spy.on('message', (topic) => {
      if (topic !== outTopic(site, 'deadletter', {})) forwarded.push(topic);
    });
    await spy.subscribeAsync([`wwtp/${site}/#`, 'spBv1.0/#'], { qos: 1 });

    const daemonOnly = [
      outTopic(site, 'setpoint', { stage: 'aerobic', loop: 'do' }),
      outTopic(site, 'prediction', { stage: 'effluent', signal: 'nh4_n' }),
      outTopic(site, 'indicator', { stage: 'influent', name: 'cod_load' }),
      outTopic(site, 'anomaly', { stage: 'aerobic' }),
      outTopic(site, 'alarm', { alarmId: 'fallback.do' }),
      outTopic(site, 'status', {}),
      outTopic(site, 'deadletter', {}),
    ];
    for (const c of [plc, hmi, viewer]) for (const topic of daemonOnly) await c.publishAsync(topic, '{"value":1}', { qos: 1, retain: true });
    await plc.publishAsync(`wwtp/${site}/hmi/loops/do/mode`, '{"mode":"manual","by":"plc"}', { qos: 1 });
    await viewer.publishAsync(readingTopic(site, 'aerobic', 'do'), '2', { qos: 1 });
    await hmi.publishAsync(readingTopic(site, 'aerobic', 'do'), '2', { qos: 1 });
    await plc.publishAsync(`wwtp/other-site/aerobic/do`, '2', { qos: 1 });
    const refused = daemonOnly.length * 3 + 4;
    await until(() => d.sink.deadLetters.length === refused, 'refusals dead-lettered');
    expect(new Set(d.sink.deadLetters.map((x) => x.reason))).toEqual(new Set(['not_authorized']));

    await plc.publishAsync(readingTopic(site, 'aerobic', 'do'), '2.2', { qos: 1 });
    await plc.publishAsync('spBv1.0/plant/NCMD/plc1', Buffer.from([]), { qos: 0 });
    await hmi.publishAsync(`wwtp/${site}/hmi/alarms/fallback.do/ack`, '{"by":"op"}', { qos: 1 });
    await until(() => d.sink.readings.length === 1 && d.commands.length === 1, 'allowed messages');
    await until(() => forwarded.length === 3, 'allowed messages forwarded');
    expect(forwarded.sort()).toEqual([readingTopic(site, 'aerobic', 'do'), 'spBv1.0/plant/NCMD/plc1', `wwtp/${site}/hmi/alarms/fallback.do/ack`].sort());

    const late = await connect(d.url(), { username: 'view1', password: 'view-secret' });
    const retained: string[] = [];
    late.on('message', (topic, _payload, packet) => {
      if (packet.retain) retained.push(topic);
    });
    await late.subscribeAsync(`wwtp/${site}/#`, { qos: 1 });
    await sleep(100);
    expect(retained).toEqual([]);
    await expect(late.subscribeAsync('$SYS/#')).rejects.toThrow(/Subscribe error/);
    expect(late.connected).toBe(true);
  });
});

describe('embedded broker: limits', () => {
  it('dead-letters oversized payloads and too deep topics, and counts them', async () => {
    const d = await daemon({ limits: { maxPayloadBytes: 1024, maxTopicLevels: 5 } });
    const plc = await connect(d.url());
    await plc.publishAsync(readingTopic(d.config.site, 'aerobic', 'do'), '1'.repeat(2000), { qos: 1 });
    await plc.publishAsync(`wwtp/${d.config.site}/a/b/c/d`, '1', { qos: 1 });
    await until(() => d.sink.deadLetters.length === 2, 'two dead letters');
    expect(d.sink.deadLetters.map((x) => x.reason)).toEqual(['oversized', 'topic_too_deep']);
    expect(await counterValue(d.metrics, 'wwtp_edge_broker_limit_hits_total', { limit: 'payload_size' })).toBe(1);
    expect(await counterValue(d.metrics, 'wwtp_edge_broker_limit_hits_total', { limit: 'topic_depth' })).toBe(1);
  });

  it('refuses clients past maxClients and counts it', async () => {
    const d = await daemon({ limits: { maxClients: 2 } });
    await connect(d.url());
    await connect(d.url());
    await expect(client(d.url())).rejects.toThrow();
    expect(await counterValue(d.metrics, 'wwtp_edge_broker_limit_hits_total', { limit: 'max_clients' })).toBe(1);
    expect(await counterValue(d.metrics, 'wwtp_edge_mqtt_clients')).toBe(2);
  });
});

describe('embedded broker: listeners, wills, shutdown', () => {
  it('takes MQTT over WebSocket (browser HMIs)', async () => {
    const d = await daemon();
    const ws = await connect(d.url('ws'));
    await ws.publishAsync(readingTopic(d.config.site, 'aerobic', 'do'), '1.7', { qos: 1 });
    expect(d.sink.readings.map((r) => r.value)).toEqual([1.7]);
  });

  it('takes MQTT over TLS from cert/key files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wwtp-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const d = await daemon({ tls: { port: 0, certFile, keyFile } });
    const tlsPort = d.broker.address().tlsPort;
    expect(tlsPort).toBeGreaterThan(0);
    const c = await connect(`mqtts://127.0.0.1:${tlsPort}`, { rejectUnauthorized: false });
    await c.publishAsync(readingTopic(d.config.site, 'aerobic', 'do'), '1.9', { qos: 1 });
    expect(d.sink.readings.map((r) => r.value)).toEqual([1.9]);
  });

  it('publishes a client\'s last will (as that client, through ingest) when it drops', async () => {
    const d = await daemon();
    const plc = await connect(d.url(), { will: { topic: readingTopic(d.config.site, 'primary', 'sludge_pump'), payload: Buffer.from('0'), qos: 1, retain: false } });
    plc.stream.destroy();
    await until(() => d.sink.readings.length === 1, 'will stored as a reading');
    expect(d.sink.readings[0]).toMatchObject({ stage: 'primary', signal: 'sludge_pump', value: 0 });
  });

  it('stops intake idempotently and then refuses connections', async () => {
    const d = await daemon();
    const url = d.url();
    await Promise.all([d.broker.stopIntake(), d.broker.stopIntake()]);
    await expect(client(url)).rejects.toThrow();
    await Promise.all([d.broker.stop(), d.broker.stop()]);
    expect(d.broker.connected()).toBe(false);
    await expect(d.broker.publish('x', 'y', { qos: 0, retain: false })).rejects.toThrow(/not running/);
  });
});
