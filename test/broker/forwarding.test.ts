import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { cacheEmitterMatches, cachePersistenceMatches } from '../../src/broker/match-cache.js';
import { readingTopic } from '../../src/contract/topics.js';
import { client, openedPerTest, sleep, startDaemonSide, until } from './helpers.js';

const { daemon, connect } = openedPerTest();
function received(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  return got;
}

describe('embedded broker: readings forwarded to subscribers (topic matches cached)', () => {
  it('forwards to a subscriber that came after the topic was routed, and stops after it unsubscribed', async () => {
    const d = await daemon();
    const topic = readingTopic(d.config.site, 'aerobic', 'do');
    const plc = await connect(d.url());
    // Routed (and its "no subscriber" match remembered) before anyone subscribes.
    for (const qos of [0, 1] as const) await plc.publishAsync(topic, '1', { qos });
    await until(() => d.sink.readings.length === 2, 'first readings stored');

    const hmi = await connect(d.url());
    const got = received(hmi);
    await hmi.subscribeAsync(`wwtp/${d.config.site}/+/do`, { qos: 1 });
    await plc.publishAsync(topic, '2', { qos: 0 });
    await plc.publishAsync(topic, '3', { qos: 1 });
    await until(() => got.length === 2, 'both forwarded');
    expect(got).toEqual([`${topic} 2`, `${topic} 3`]);

    await hmi.unsubscribeAsync(`wwtp/${d.config.site}/+/do`);
    await plc.publishAsync(topic, '4', { qos: 1 });
    await until(() => d.sink.readings.length === 5, 'last reading stored');
    await sleep(100);
    expect(got).toHaveLength(2);
  });

  it('queues QoS 1 readings for a persistent subscriber while it is away, subscribed after the topic was routed', async () => {
    const d = await daemon();
    const topic = readingTopic(d.config.site, 'aerobic', 'ph');
    const plc = await connect(d.url());
    await plc.publishAsync(topic, '7', { qos: 1 });

    const first = await client(d.url(), { clientId: 'hmi-persistent', clean: false });
    await first.subscribeAsync(topic, { qos: 1 });
    await first.endAsync();
    await plc.publishAsync(topic, '7.5', { qos: 1 });

    const again = await connect(d.url(), { clientId: 'hmi-persistent', clean: false });
    const got = received(again);
    await until(() => got.length === 1, 'queued reading delivered on return');
    expect(got).toEqual([`${topic} 7.5`]);
  });

  it('keeps a retained reading for late subscribers', async () => {
    const d = await daemon();
    const topic = readingTopic(d.config.site, 'aerobic', 'mlss');
    const plc = await connect(d.url());
    await plc.publishAsync(topic, '3000', { qos: 1, retain: true });
    const late = await connect(d.url());
    const got = received(late);
    await late.subscribeAsync(topic, { qos: 1 });
    await until(() => got.length === 1, 'retained reading');
    expect(got).toEqual([`${topic} 3000`]);
  });
});

describe('topic-match caches', () => {
  it('answer like the matcher, and afresh after every subscription change', () => {
    const subs = new Map<string, string[]>();
    let lookups = 0;
    const matcher = {
      match: (topic: string) => {
        lookups += 1;
        return [...(subs.get(topic) ?? [])];
      },
      add: (topic: string, value: string) => subs.set(topic, [...(subs.get(topic) ?? []), value]),
      remove: (topic: string, value?: string) => subs.set(topic, value === undefined ? [] : (subs.get(topic) ?? []).filter((v) => v !== value)),
      clear: () => subs.clear(),
    };
    expect(cacheEmitterMatches({ _matcher: matcher })).toBe(true);
    expect(matcher.match('a/b')).toEqual([]);
    expect(matcher.match('a/b')).toEqual([]);
    expect(lookups).toBe(1);
    matcher.add('a/b', 'hmi');
    expect(matcher.match('a/b')).toEqual(['hmi']);
    const copy = matcher.match('a/b');
    copy.push('changed by the caller');
    expect(matcher.match('a/b')).toEqual(['hmi']);
    matcher.remove('a/b', 'hmi');
    expect(matcher.match('a/b')).toEqual([]);
    expect(cacheEmitterMatches({})).toBe(false);
  });

  it('persistence: the promise form is cached, changes clear it when called and when done', async () => {
    let subs: string[] = [];
    let lookups = 0;
    let finishAdd: (() => void) | undefined;
    const persistence = {
      subscriptionsByTopic: (_topic: string) => {
        lookups += 1;
        return Promise.resolve([...subs]);
      },
      addSubscriptions: (_client: unknown, added: string[]) =>
        new Promise<void>((resolve) => {
          finishAdd = () => {
            subs = [...subs, ...added];
            resolve();
          };
        }),
      removeSubscriptions: () => Promise.resolve((subs = [])),
      cleanSubscriptions: () => Promise.resolve((subs = [])),
    };
    expect(cachePersistenceMatches(persistence)).toBe(true);
    expect(await persistence.subscriptionsByTopic('t')).toEqual([]);
    expect(await persistence.subscriptionsByTopic('t')).toEqual([]);
    expect(lookups).toBe(1);
    const adding = persistence.addSubscriptions({}, ['hmi']);
    // Looked up while the change runs: may see the old state, but is not kept past the change.
    expect(await persistence.subscriptionsByTopic('t')).toEqual([]);
    finishAdd?.();
    await adding;
    expect(await persistence.subscriptionsByTopic('t')).toEqual(['hmi']);
    await persistence.removeSubscriptions();
    expect(await persistence.subscriptionsByTopic('t')).toEqual([]);
    expect(cachePersistenceMatches({ subscriptionsByTopic: () => undefined })).toBe(false);
  });
});

describe('embedded broker: the daemon\'s own outputs reach an HMI in any publish order', () => {
  it('delivers a retained alarm followed at once by a non-retained anomaly message, both at QoS 1', async () => {
    const d = await daemon();
    const hmi = await connect(d.url());
    const got = received(hmi);
    await hmi.subscribeAsync(`wwtp/${d.config.site}/#`, { qos: 1 });
    // As a window close does: an alarm (retained, so aedes stores it first) and right after it the
    // stage's anomaly message (not retained), many times over.
    const sends: Promise<void>[] = [];
    for (let k = 0; k < 20; k += 1) {
      sends.push(d.broker.publish(`wwtp/${d.config.site}/alarms/sensor.aerobic.do.deviation`, `{"k":${k}}`, { qos: 1, retain: true }));
      sends.push(d.broker.publish(`wwtp/${d.config.site}/anomaly/aerobic`, `{"k":${k}}`, { qos: 1, retain: false }));
    }
    await Promise.all(sends);
    await until(() => got.length >= 40, 'every alarm and anomaly message delivered', 5_000);
    expect(got.filter((m) => m.includes('/alarms/'))).toHaveLength(20);
    expect(got.filter((m) => m.includes('/anomaly/'))).toHaveLength(20);
  });
});
