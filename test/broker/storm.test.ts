import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { outTopic, readingTopic } from '../../src/contract/topics.js';
import type { DeadLetterReason } from '../../src/contract/reading.js';
import { counterValue } from '../ingest/helpers.js';
import { client, startDaemonSide, until, type DaemonSide } from './helpers.js';

/**
 * Garbage storm: >= 10,000 random topics and payloads (binary, huge, NaN, nested JSON, wrong types,
 * random unicode) from real clients through the embedded broker. The broker must live through it and
 * every bad message must be accounted for in dead letters, by reason.
 */
const MAX_PAYLOAD = 4096;
const BAD_MESSAGES = 10_000;
const GOOD_MESSAGES = 1_000;
const CLIENTS = 4;

type Shot = { topic: string; payload: Buffer; expect: DeadLetterReason | 'stored' };

function arbitraries(site: string, signals: readonly { stage: string; id: string; min: number; max: number }[], now: number) {
  const known = fc.constantFrom(...signals);
  const knownTopic = known.map((s) => readingTopic(site, s.stage as never, s.id));
  const ident = fc.stringMatching(/^[a-z0-9]{1,12}$/);
  const anyPayload = fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    fc.string({ unit: 'grapheme', maxLength: 100 }).map((s) => Buffer.from(s)),
    fc.jsonValue({ maxDepth: 3 }).map((j) => Buffer.from(JSON.stringify(j) ?? 'null')),
  ).filter((b) => b.length <= MAX_PAYLOAD);
  const cleanUnicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => !/[/+#\u0000]/.test(s) && !s.startsWith('spBv1.0'));
  const shot = (topic: fc.Arbitrary<string>, payload: fc.Arbitrary<Buffer>, reason: Shot['expect']): fc.Arbitrary<Shot> =>
    fc.tuple(topic, payload).map(([t, p]) => ({ topic: t, payload: p, expect: reason }));
  const wrongJson = fc.oneof(
    fc.record({ value: fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.double()), fc.jsonValue({ maxDepth: 3 })).filter((v) => typeof v !== 'number'), nested: fc.jsonValue({ maxDepth: 4 }) }),
    fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }),
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom(true, false, null),
  ).map((j) => Buffer.from(JSON.stringify(j))).filter((b) => b.length <= MAX_PAYLOAD);

  const bad = fc.oneof(
    shot(cleanUnicode, anyPayload, 'not_authorized'),
    shot(fc.tuple(ident, ident).map(([a, b]) => `wwtp/${site}/zz${a}/${b}`), anyPayload, 'unknown_topic'),
    shot(fc.tuple(known, ident).map(([s, x]) => `wwtp/${site}/${s.stage}/x_${x}`), anyPayload, 'unknown_signal'),
    shot(knownTopic, fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.concat([Buffer.from([0xff]), Buffer.from(b)])), 'unparseable'),
    shot(knownTopic, fc.constantFrom('NaN', 'Infinity', '-Infinity', 'inf', '1e999', '-1e400', '{"value":1e999}', 'nan').map((s) => Buffer.from(s)), 'not_finite'),
    shot(knownTopic, wrongJson, 'wrong_type'),
    fc.tuple(known, fc.double({ min: 1, max: 1e12, noNaN: true }), fc.boolean()).map(([s, d, json]) => {
      const value = json ? s.min - d : s.max + d;
      return { topic: readingTopic(site, s.stage as never, s.id), payload: Buffer.from(json ? JSON.stringify({ value }) : String(value)), expect: 'out_of_range' as const };
    }),
    fc.tuple(known, fc.oneof(fc.integer({ min: now + 86_400_000, max: now + 10 * 86_400_000 }), fc.constantFrom('yesterday', '2026-13-45', 'now', ''))).map(([s, ts]) => ({
      topic: readingTopic(site, s.stage as never, s.id),
      payload: Buffer.from(JSON.stringify({ value: (s.min + s.max) / 2, ts })),
      expect: 'bad_timestamp' as const,
    })),
    shot(fc.oneof(knownTopic, cleanUnicode), fc.integer({ min: MAX_PAYLOAD + 1, max: 120_000 }).map((n) => Buffer.alloc(n, 0x41)), 'oversized'),
    shot(fc.array(ident, { minLength: 9, maxLength: 40 }).map((parts) => parts.join('/')), anyPayload, 'topic_too_deep'),
  );
  const good = known.chain((s) => fc.double({ min: s.min, max: s.max, noNaN: true }).map((v) => ({ topic: readingTopic(site, s.stage as never, s.id), payload: Buffer.from(String(v)), expect: 'stored' as const })));
  return { bad, good };
}

describe('garbage storm through the embedded broker', () => {
  let daemon: DaemonSide | undefined;
  const clients: MqttClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await daemon?.stop();
  });

  it(`accounts for ${BAD_MESSAGES} bad messages by reason and stays up`, async () => {
    daemon = await startDaemonSide({ mode: 'embedded', broker: { limits: { maxPayloadBytes: MAX_PAYLOAD, maxTopicLevels: 8, maxPublishesPerSecond: 1_000_000, maxClients: 50 } } });
    const d = daemon;
    const { bad, good } = arbitraries(d.config.site, d.config.signals, Date.now());
    const shots = fc.sample(bad, { numRuns: BAD_MESSAGES, seed: 20_261_123 }).concat(fc.sample(good, { numRuns: GOOD_MESSAGES, seed: 7 }));
    let seed = 42;
    for (let i = shots.length - 1; i > 0; i--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = seed % (i + 1);
      [shots[i], shots[j]] = [shots[j]!, shots[i]!];
    }

    const watcher = await client(d.url());
    clients.push(watcher);
    let deadLettersSeen = 0;
    watcher.on('message', () => (deadLettersSeen += 1));
    await watcher.subscribeAsync(outTopic(d.config.site, 'deadletter', {}), { qos: 0 });

    const publishers = await Promise.all(Array.from({ length: CLIENTS }, () => client(d.url())));
    clients.push(...publishers);
    const chunk = 400;
    for (let i = 0; i < shots.length; i += chunk * CLIENTS) {
      await Promise.all(
        publishers.map((c, k) => {
          const mine = shots.slice(i + k * chunk, i + (k + 1) * chunk);
          return Promise.all(mine.map((s) => c.publishAsync(s.topic, s.payload, { qos: 1 })));
        }),
      );
    }

    const expected: Record<string, number> = {};
    for (const s of shots) if (s.expect !== 'stored') expected[s.expect] = (expected[s.expect] ?? 0) + 1;
    const goodCount = shots.filter((s) => s.expect === 'stored').length;
    expect(d.sink.byReason()).toEqual(expected);
    expect(d.sink.deadLetters).toHaveLength(BAD_MESSAGES);
    expect(d.sink.readings).toHaveLength(goodCount);
    for (const [reason, n] of Object.entries(expected)) expect(await counterValue(d.metrics, 'wwtp_edge_dead_letters_total', { reason })).toBe(n);
    expect(await counterValue(d.metrics, 'wwtp_edge_handler_errors_total')).toBe(0);
    await until(() => deadLettersSeen === BAD_MESSAGES, 'every dead letter on its topic');

    // Still alive: a fresh client gets a reading stored.
    const after = await client(d.url());
    clients.push(after);
    await after.publishAsync(readingTopic(d.config.site, 'aerobic', 'do'), '2', { qos: 1 });
    expect(d.sink.readings).toHaveLength(goodCount + 1);
    expect(publishers.every((c) => c.connected)).toBe(true);
  });
});
