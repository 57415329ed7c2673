import { describe, expect, it } from 'vitest';
import { counterValue, ingestHarness, manualClock, testConfig } from './helpers.js';

const clock = manualClock();
const now = clock.now();

describe('ingest: readings', () => {
  it('accepts a bare number, stamps receive time, acks after the commit', async () => {
    const h = ingestHarness({ clock });
    const topic = `wwtp/${h.config.site}/aerobic/do`;
    expect(await h.send(topic, ' 2.25 ')).toBe(true);
    expect(h.sink.readings).toEqual([{ stage: 'aerobic', signal: 'do', ts: now, value: 2.25, quality: 'good', receivedAt: now }]);
    expect(h.committed).toHaveLength(1);
    expect(h.sink.deadLetters).toHaveLength(0);
  });

  it('accepts JSON with epoch-ms or ISO-8601 ts and a quality', async () => {
    const h = ingestHarness({ clock });
    const topic = `wwtp/${h.config.site}/influent/flow`;
    await h.send(topic, JSON.stringify({ value: 18000, ts: now - 60_000, quality: 'uncertain' }));
    await h.send(topic, JSON.stringify({ value: 18001, ts: new Date(now - 30_000).toISOString() }));
    expect(h.sink.readings.map((r) => [r.value, r.ts, r.quality])).toEqual([
      [18000, now - 60_000, 'uncertain'],
      [18001, now - 30_000, 'good'],
    ]);
  });

  it.each([
    ['unmapped', 'plant/aerobic/do', '1'],
    ['unknown_topic', 'wwtp/SITE/nowhere/do', '1'],
    ['unknown_topic', 'wwtp/SITE/aerobic/do/extra', '1'],
    ['unknown_signal', 'wwtp/SITE/aerobic/nope', '1'],
    ['unparseable', 'wwtp/SITE/aerobic/do', 'abc'],
    ['unparseable', 'wwtp/SITE/aerobic/do', ''],
    ['unparseable', 'wwtp/SITE/aerobic/do', '{"value": 1'],
    ['wrong_type', 'wwtp/SITE/aerobic/do', '{"value": "1"}'],
    ['wrong_type', 'wwtp/SITE/aerobic/do', '{"value": 1, "extra": true}'],
    ['wrong_type', 'wwtp/SITE/aerobic/do', '[1, 2]'],
    ['wrong_type', 'wwtp/SITE/aerobic/do', '{"value": 1, "quality": "great"}'],
    ['not_finite', 'wwtp/SITE/aerobic/do', 'NaN'],
    ['not_finite', 'wwtp/SITE/aerobic/do', '-Infinity'],
    ['not_finite', 'wwtp/SITE/aerobic/do', '1e999'],
    ['not_finite', 'wwtp/SITE/aerobic/do', '{"value": 1e999}'],
    ['out_of_range', 'wwtp/SITE/aerobic/do', '12.5'],
    ['out_of_range', 'wwtp/SITE/aerobic/do', '-0.1'],
    ['bad_timestamp', 'wwtp/SITE/aerobic/do', JSON.stringify({ value: 1, ts: now + 3_600_000 })],
    ['bad_timestamp', 'wwtp/SITE/aerobic/do', JSON.stringify({ value: 1, ts: 1_700_000 })],
    ['bad_timestamp', 'wwtp/SITE/aerobic/do', JSON.stringify({ value: 1, ts: 'yesterday' })],
    ['oversized', 'wwtp/SITE/aerobic/do', '1'.repeat(70_000)],
  ])('dead-letters %s: %s %s', async (reason, topicPattern, payload) => {
    const h = ingestHarness({ clock });
    const topic = topicPattern.replace('SITE', h.config.site);
    expect(await h.send(topic, payload)).toBe(true);
    expect(h.sink.readings).toHaveLength(0);
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual([reason]);
    expect(h.published.map((d) => d.reason)).toEqual([reason]);
    expect(h.sink.deadLetters[0]?.topic).toBe(topic);
    expect(h.sink.deadLetters[0]?.payload.length).toBeLessThanOrEqual(4096);
    expect(await counterValue(h.metrics, 'wwtp_edge_dead_letters_total', { reason })).toBe(1);
  });

  it('keeps binary payloads as base64 in the dead letter', async () => {
    const h = ingestHarness({ clock });
    await h.send(`wwtp/${h.config.site}/aerobic/do`, Buffer.from([0xff, 0x00, 0x81]));
    expect(h.sink.deadLetters[0]).toMatchObject({ reason: 'unparseable', payload: 'base64:/wCB' });
  });

  it('ignores the daemon\'s own outputs instead of dead-lettering them', async () => {
    const h = ingestHarness({ clock });
    const site = h.config.site;
    for (const topic of [`wwtp/${site}/edge/status`, `wwtp/${site}/edge/deadletter`, `wwtp/${site}/alarms/stale.aerobic.do`, `wwtp/${site}/anomaly/aerobic`, `wwtp/${site}/aerobic/setpoint/do`, `wwtp/${site}/aerobic/prediction/nh4_n`, `wwtp/${site}/influent/indicator/cod_load`]) {
      expect(await h.send(topic, '{"value":1}')).toBe(true);
    }
    expect(h.sink.deadLetters).toHaveLength(0);
    expect(h.sink.readings).toHaveLength(0);
  });

  it('leaves readings unacknowledged when the store refuses them, and counts it', async () => {
    const h = ingestHarness({ clock });
    h.sink.mode = 'reject';
    expect(await h.send(`wwtp/${h.config.site}/aerobic/do`, '2')).toBe(false);
    expect(h.committed).toHaveLength(0);
    expect(await counterValue(h.metrics, 'wwtp_edge_ingest_not_stored_total')).toBe(1);
  });

  it('holds the ack until the append resolves', async () => {
    const h = ingestHarness({ clock });
    h.sink.mode = 'hold';
    let acked: boolean | undefined;
    h.ingest.handle(`wwtp/${h.config.site}/aerobic/do`, Buffer.from('2'), 1, (ok) => (acked = ok));
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sink.held).toHaveLength(1);
    expect(acked).toBeUndefined();
    h.sink.held[0]?.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(acked).toBe(true);
  });

  it('holds the ack of a dead-lettered QoS 1 message until its dead letter is committed', async () => {
    const h = ingestHarness({ clock });
    h.sink.mode = 'hold';
    const acks: (boolean | undefined)[] = [undefined, undefined];
    h.ingest.handle(`wwtp/${h.config.site}/aerobic/nope`, Buffer.from('2'), 1, (ok) => (acks[0] = ok));
    h.ingest.reject(`wwtp/${h.config.site}/aerobic/do`, Buffer.from('x'.repeat(10)), 'not_authorized', 'role viewer', (ok) => (acks[1] = ok));
    await new Promise((r) => setTimeout(r, 20));
    expect(h.sink.held.length).toBeGreaterThan(0);
    expect(h.sink.deadLetters).toHaveLength(0);
    expect(acks).toEqual([undefined, undefined]);
    for (const held of h.sink.held) held.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(acks).toEqual([true, true]);
    expect(h.sink.deadLetters.map((d) => d.reason).sort()).toEqual(['not_authorized', 'unknown_signal']);
  });

  it('leaves a dead-lettered message unacknowledged when its dead letter was not stored', async () => {
    const h = ingestHarness({ clock });
    h.sink.mode = 'reject';
    expect(await h.send(`wwtp/${h.config.site}/aerobic/do`, 'not a number')).toBe(false);
    expect(h.published.map((d) => d.reason)).toEqual(['unparseable']);
  });

  it('commits a burst of readings in few appends', async () => {
    const h = ingestHarness({ clock });
    const topic = `wwtp/${h.config.site}/aerobic/do`;
    const acks = await Promise.all(Array.from({ length: 5000 }, (_, i) => h.send(topic, String((i % 100) / 10))));
    expect(acks.every(Boolean)).toBe(true);
    expect(h.sink.readings).toHaveLength(5000);
    expect(h.sink.appends.length).toBeLessThanOrEqual(5000 / h.config.ingest.maxBatchReadings + 1);
  });

  it('turns a throwing handler into a handler_error dead letter and goes on', async () => {
    let calls = 0;
    const throwingOnce = { ...clock, now: () => (calls++ === 0 ? (() => { throw new Error('clock broke'); })() : now) };
    const h = ingestHarness({ clock: throwingOnce });
    expect(await h.send(`wwtp/${h.config.site}/aerobic/do`, '2')).toBe(true);
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual(['handler_error']);
    expect(await counterValue(h.metrics, 'wwtp_edge_handler_errors_total', { component: 'ingest.reading' })).toBe(1);
    expect(await h.send(`wwtp/${h.config.site}/aerobic/do`, '2')).toBe(true);
    expect(h.sink.readings).toHaveLength(1);
  });

  it('records broker refusals as dead letters', () => {
    const h = ingestHarness({ clock });
    h.ingest.reject('x/y', Buffer.from('1'), 'not_authorized', 'role viewer');
    expect(h.sink.deadLetters).toMatchObject([{ topic: 'x/y', reason: 'not_authorized', detail: 'role viewer' }]);
  });
});

describe('ingest: HMI commands', () => {
  it('decodes alarm ack, shelve and loop mode into commands', async () => {
    const h = ingestHarness({ clock });
    const site = h.config.site;
    await h.send(`wwtp/${site}/hmi/alarms/stale.aerobic.do/ack`, JSON.stringify({ by: 'op1', comment: 'seen' }));
    await h.send(`wwtp/${site}/hmi/alarms/anomaly.aerobic/shelve`, JSON.stringify({ by: 'op1', minutes: 30 }));
    await h.send(`wwtp/${site}/hmi/loops/do/mode`, JSON.stringify({ mode: 'manual', value: 1.8, by: 'op2' }));
    expect(h.commands).toEqual([
      { kind: 'alarm_ack', alarmId: 'stale.aerobic.do', by: 'op1', comment: 'seen', ts: now },
      { kind: 'alarm_shelve', alarmId: 'anomaly.aerobic', by: 'op1', minutes: 30, comment: undefined, ts: now },
      { kind: 'loop_mode', loop: 'do', mode: 'manual', value: 1.8, by: 'op2', ts: now },
    ]);
    expect(h.sink.deadLetters).toHaveLength(0);
  });

  it.each([
    ['invalid_command', 'hmi/loops/blower/mode', '{"mode":"auto","by":"x"}'],
    ['invalid_command', 'hmi/loops/do/mode', '{"mode":"turbo","by":"x"}'],
    ['invalid_command', 'hmi/alarms/a1/ack', 'not json'],
    ['invalid_command', 'hmi/alarms/a1/ack', '{"by":""}'],
    ['unknown_topic', 'hmi/alarms/a1/delete', '{"by":"x"}'],
    ['unknown_topic', 'hmi/whatever', '{}'],
  ])('dead-letters %s for %s', async (reason, rest, payload) => {
    const h = ingestHarness({ clock });
    expect(await h.send(`wwtp/${h.config.site}/${rest}`, payload)).toBe(true);
    expect(h.commands).toHaveLength(0);
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual([reason]);
  });

  it('refuses an ack whose verdict is not one, whole, keeping it in the dead letters with a reason naming the verdict', async () => {
    const h = ingestHarness({ clock });
    const payload = JSON.stringify({ by: 'night-op', comment: 'pump restarted', verdict: 'maybe' });
    expect(await h.send(`wwtp/${h.config.site}/hmi/alarms/anomaly.aerobic/ack`, payload)).toBe(true);
    expect(h.commands).toHaveLength(0);
    expect(h.sink.deadLetters.map((d) => [d.reason, d.payload, d.detail])).toEqual([
      ['invalid_command', payload, 'verdict "maybe" is not "false_alarm" or "confirmed": ack not applied, send it again with one of them or without a verdict'],
    ]);
    await h.send(`wwtp/${h.config.site}/hmi/alarms/anomaly.aerobic/ack`, JSON.stringify({ by: 'night-op', verdict: 'confirmed' }));
    expect(h.commands).toEqual([{ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'night-op', comment: undefined, verdict: 'confirmed', ts: now }]);
  });

  it('survives a throwing command consumer', async () => {
    const h = ingestHarness({ clock, onCommand: () => { throw new Error('alarm module down'); } });
    expect(await h.send(`wwtp/${h.config.site}/hmi/alarms/a1/ack`, '{"by":"x"}')).toBe(true);
    expect(await counterValue(h.metrics, 'wwtp_edge_handler_errors_total', { component: 'ingest.command' })).toBe(1);
  });
});

describe('ingest: config', () => {
  it('respects maxFutureSkewSec and maxAgeDays', async () => {
    const h = ingestHarness({ clock, config: testConfig({ ingest: { maxFutureSkewSec: 10, maxAgeDays: 1 } }) });
    const topic = `wwtp/${h.config.site}/aerobic/do`;
    await h.send(topic, JSON.stringify({ value: 1, ts: now + 9_000 }));
    await h.send(topic, JSON.stringify({ value: 1, ts: now + 11_000 }));
    await h.send(topic, JSON.stringify({ value: 1, ts: now - 86_000_000 }));
    await h.send(topic, JSON.stringify({ value: 1, ts: now - 87_000_000 }));
    expect(h.sink.readings).toHaveLength(2);
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual(['bad_timestamp', 'bad_timestamp']);
  });
});
