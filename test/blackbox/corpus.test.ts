import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCorpus, type CorpusKind, type CorpusMessage } from './corpus.js';
import { edgeEnv, HMI, metricSum, PLC, record, SCALE, scrape, sleep, startEdge, tempDir, uniqueSite, usersYaml, waitFor, type Edge } from './harness.js';
import { connectPacket, publishPacket, rawClient } from './raw-mqtt.js';

/**
 * Guarantee 2 from the outside: the corpus of bad input (test/blackbox/corpus.ts) mixed with valid
 * readings, sent by MQTT.js, mosquitto_pub and raw MQTT 3.1.1 packets to the built daemon with
 * authenticated PLC and HMI accounts. Every message must end up as a reading, as a dead letter (row
 * and message) or, where MQTT requires closing the connection, as a closed connection with a counted
 * metric and a log line: 0 unexplained, and each as its kind says.
 */
const COPIES = 3 * SCALE;
const site = uniqueSite('c');
const now = Date.now();
const kinds = buildCorpus({ site, now, sparkplugGroup: 'bbplant', sparkplugNode: 'bbnode' });

interface Sent {
  readonly kind: CorpusKind;
  readonly message: CorpusMessage;
  /** PUBACK (QoS 1) or written (QoS 0); for a raw sender: the connection closed. */
  readonly acked: boolean;
}

function mosquittoPub(port: number, m: CorpusMessage): Promise<boolean> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-u', PLC.username, '-P', PLC.password, '-q', String(m.qos), '-t', m.topic, '-i', `bb-mospub-${Math.random()}`];
  return new Promise((resolve) => {
    const child = execFile('mosquitto_pub', m.payload.length === 0 ? [...args, '-n'] : [...args, '-s'], { timeout: 10_000 }, (error) => resolve(!error));
    child.stdin?.end(m.payload);
  });
}

async function rawPublish(port: number, m: CorpusMessage): Promise<boolean> {
  const raw = await rawClient(port);
  raw.socket.write(connectPacket({ clientId: `bb-raw-${Math.random().toString(36).slice(2)}`, username: PLC.username, password: PLC.password }));
  if ((await raw.connack(5_000)) !== 0) throw new Error('raw client not accepted');
  raw.socket.write(publishPacket(m.rawTopic ?? m.topic, m.payload, m.qos));
  let outcome: boolean;
  if (m.expect.as === 'closed') outcome = await raw.waitClosed(5_000);
  else outcome = await waitFor('PUBACK', () => raw.types().includes(4) || undefined, 5_000).then(() => true, () => false);
  raw.socket.destroy();
  return outcome;
}

describe('bad-input corpus mixed with valid readings (built daemon)', () => {
  let edge: Edge;
  let plc: MqttClient;
  let hmi: MqttClient;
  const sent: Sent[] = [];
  const letters: { topic: string; reason: string }[] = [];
  let rows: { readings: Map<string, number>; deadletters: { topic: string; reason: string }[] };
  let deadLetterMetric = 0;
  let refusedMetric = 0;

  beforeAll(async () => {
    const dir = tempDir('wwtp-bb-corpus-');
    const configFile = join(dir, 'site.yaml');
    writeFileSync(
      configFile,
      [
        'broker:',
        '  embedded:',
        '    allowAnonymous: false',
        usersYaml(),
        'ingest:',
        '  sparkplug:',
        '    group: bbplant',
        '    metrics:',
        '      - { node: bbnode, metric: DO3, stage: aerobic, signal: do_zone3 }',
        '      - { node: bbnoder, metric: DO3, stage: aerobic, signal: do_zone3 }',
        '',
      ].join('\n'),
    );
    edge = await startEdge(edgeEnv(dir, site, { WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'false', WWTP_EDGE_INGEST__MAX_AGE_DAYS: '3650' }), ['run', '--config', configFile]);
    const url = `mqtt://127.0.0.1:${edge.mqttPort}`;
    const watcher = await mqtt.connectAsync(url, { ...HMI, clientId: `bb-dl-${site}` });
    watcher.on('message', (_t, payload) => letters.push(JSON.parse(payload.toString()) as { topic: string; reason: string }));
    await watcher.subscribeAsync(`wwtp/${site}/edge/deadletter`, { qos: 1 });
    plc = await mqtt.connectAsync(url, { ...PLC, clientId: `bb-plc-${site}` });
    hmi = await mqtt.connectAsync(url, { ...HMI, clientId: `bb-hmi-${site}` });

    for (let copy = 0; copy < COPIES; copy++) {
      // a different order of kinds in every copy, the messages of one kind in their order
      const order = kinds.map((kind, i) => ({ kind, key: (i * 7919 + copy * 104_729) % 1_000 })).sort((a, b) => a.key - b.key);
      for (const { kind } of order) {
        for (const message of kind.messages(copy)) {
          let acked: boolean;
          if (message.sender === 'mosquitto') acked = await mosquittoPub(edge.mqttPort, message);
          else if (message.sender === 'raw') acked = await rawPublish(edge.mqttPort, message);
          else {
            const client = message.sender === 'hmi' ? hmi : plc;
            acked = await client.publishAsync(message.topic, message.payload, { qos: message.qos }).then(
              () => true,
              () => false,
            );
          }
          sent.push({ kind, message, acked });
        }
      }
    }
    const expectedLetters = sent.filter((s) => s.message.expect.as === 'deadletter').length;
    await waitFor('dead-letter messages', () => letters.length >= expectedLetters || undefined, 15_000).catch(() => undefined);
    await sleep(500);
    await watcher.endAsync();
    const metrics = await scrape(edge);
    deadLetterMetric = metricSum(metrics, 'wwtp_edge_dead_letters_total');
    refusedMetric = metricSum(metrics, 'wwtp_edge_broker_connections_refused_total');
    const db = new Database(join(dir, 'edge.sqlite'), { readonly: true });
    rows = {
      readings: new Map((db.prepare('SELECT stage, signal, ts, value FROM readings').all() as { stage: string; signal: string; ts: number; value: number }[]).map((r) => [`${r.stage}/${r.signal}/${r.ts}`, r.value])),
      deadletters: db.prepare('SELECT topic, reason FROM deadletters').all() as { topic: string; reason: string }[],
    };
    db.close();
  }, 180_000);

  afterAll(async () => {
    await plc?.endAsync();
    await hmi?.endAsync();
    if (edge) {
      edge.child.kill('SIGTERM');
      await edge.exited();
    }
  });

  /** Per kind: messages tried, explained (each outcome found), and those that became something else. */
  function judge(kind: CorpusKind): { tried: number; explained: number; wrong: string[] } {
    const mine = sent.filter((s) => s.kind === kind);
    const wrong: string[] = [];
    let explained = 0;
    const letterTopics = new Map<string, number>();
    for (const s of mine) {
      const e = s.message.expect;
      if (e.as === 'reading') {
        const value = rows.readings.get(`${e.stage}/${e.signal}/${e.ts}`);
        if (value === undefined) wrong.push(`reading ${e.stage}/${e.signal}@${e.ts} not stored`);
        else if (value !== e.value) wrong.push(`reading ${e.stage}/${e.signal}@${e.ts} stored as ${value}, sent ${e.value}`);
        else explained += 1;
      } else if (e.as === 'deadletter') {
        letterTopics.set(s.message.topic, (letterTopics.get(s.message.topic) ?? 0) + 1);
      } else if (!s.acked) wrong.push(`connection to ${s.message.topic} not closed`);
      else if (rows.deadletters.some((r) => r.topic === s.message.topic)) wrong.push(`${s.message.topic}: dead-lettered although its connection was closed`);
      else explained += 1;
    }
    for (const [topic, count] of letterTopics) {
      const expectedReasons = new Set(mine.filter((s) => s.message.topic === topic && s.message.expect.as === 'deadletter').map((s) => (s.message.expect as { reason: string }).reason));
      const stored = rows.deadletters.filter((r) => r.topic === topic);
      const published = letters.filter((l) => l.topic === topic);
      const both = Math.min(stored.length, published.length, count);
      explained += both;
      if (stored.length !== count) wrong.push(`${topic}: ${stored.length} dead-letter rows for ${count} messages`);
      if (published.length !== count) wrong.push(`${topic}: ${published.length} dead-letter messages for ${count} messages`);
      const reasons = new Set([...stored, ...published].map((r) => r.reason));
      if ([...reasons].some((r) => !expectedReasons.has(r))) wrong.push(`${topic}: reason ${[...reasons].join(',')}, expected ${[...expectedReasons].join(',')}`);
    }
    return { tried: mine.length, explained, wrong };
  }

  it(`has at least 40 kinds of bad input besides valid readings, ${COPIES} copies each`, () => {
    const bad = kinds.filter((k) => k.messages(0).some((m) => m.expect.as !== 'reading'));
    expect(bad.length).toBeGreaterThanOrEqual(40);
  });

  it.each(kinds.map((k) => [k.name, k] as const))('%s', (_name, kind) => {
    expect(judge(kind).wrong).toEqual([]);
  });

  it('leaves no message unexplained, and the dead-letter metric counts every row', async () => {
    const verdicts = kinds.map(judge);
    const tried = verdicts.reduce((a, v) => a + v.tried, 0);
    // A closed connection is explained only with its count in the metric and its log line.
    const closed = sent.filter((s) => s.message.expect.as === 'closed' && s.acked).length;
    const refusedLogs = edge.logs.filter((line) => line.includes('"connection refused"')).length;
    const unlogged = closed - Math.min(closed, refusedMetric, refusedLogs);
    const explained = verdicts.reduce((a, v) => a + v.explained, 0) - unlogged;
    const bad = kinds.filter((k) => k.messages(0).some((m) => m.expect.as !== 'reading')).length;
    record('corpus', { kinds: kinds.length, badKinds: bad, tried, explained, unexplained: tried - explained, deadLetterRows: rows.deadletters.length, deadLetterMetric, closed, refusedMetric, refusedLogs });
    expect(tried - explained).toBe(0);
    expect(deadLetterMetric).toBe(rows.deadletters.length);
    expect(edge.child.exitCode).toBeNull();
    expect((await fetch(edge.url('/healthz'))).status).toBe(200);
  });
});
