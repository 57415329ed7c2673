import { get } from 'sparkplug-payload';
import { describe, expect, it } from 'vitest';
import { client, openedPerTest, startDaemonSide, until } from '../broker/helpers.js';
import { counterValue, ingestHarness, manualClock, testConfig } from './helpers.js';

const codec = get('spBv1.0')!;
const clock = manualClock();
const now = clock.now();
type Payload = Parameters<typeof codec.encodePayload>[0];
const encode = (p: Payload): Buffer => Buffer.from(codec.encodePayload(p));

function harness() {
  const valid = testConfig({
    ingest: {
      sparkplug: {
        metrics: [
          { node: 'plc1', metric: 'Aeration/DO', stage: 'aerobic', signal: 'do' },
          { node: 'plc1', device: 'blower1', metric: 'Airflow', stage: 'aerobic', signal: 'airflow' },
        ],
      },
    },
  });
  // The config check refuses a metric mapped to a signal that does not exist; ingest still dead-letters one.
  const ghost = { node: 'plc1', metric: 'Ghost', stage: 'aerobic', signal: 'ghost' } as const;
  const sparkplug = { ...valid.ingest.sparkplug, metrics: [...valid.ingest.sparkplug.metrics, ghost] };
  const config = { ...valid, ingest: { ...valid.ingest, sparkplug } };
  return ingestHarness({ config, clock });
}

describe('ingest: Sparkplug B', () => {
  it('maps birth and data metrics (by name and by alias) to readings', async () => {
    const h = harness();
    await h.send('spBv1.0/plant/NBIRTH/plc1', encode({ timestamp: now - 1000, seq: 0, metrics: [
      { name: 'bdSeq', type: 'UInt64', value: 0 },
      { name: 'Aeration/DO', alias: 7, type: 'Float', value: 2.1 },
      { name: 'Unmapped/Thing', alias: 8, type: 'Float', value: 1 },
    ] }));
    await h.send('spBv1.0/plant/DBIRTH/plc1/blower1', encode({ timestamp: now - 900, seq: 1, metrics: [{ name: 'Airflow', alias: 9, type: 'Double', value: 12000 }] }));
    await h.send('spBv1.0/plant/NDATA/plc1', encode({ timestamp: now - 500, seq: 2, metrics: [{ alias: 7, type: 'Float', value: 2.4, timestamp: now - 400 }] }));
    await h.send('spBv1.0/plant/DDATA/plc1/blower1', encode({ timestamp: now - 300, seq: 3, metrics: [{ alias: 9, type: 'Double', value: 13000 }] }));
    expect(h.sink.readings.map((r) => [r.stage, r.signal, Math.round(r.value * 10) / 10, r.ts, r.quality])).toEqual([
      ['aerobic', 'do', 2.1, now - 1000, 'good'],
      ['aerobic', 'airflow', 12000, now - 900, 'good'],
      ['aerobic', 'do', 2.4, now - 400, 'good'],
      ['aerobic', 'airflow', 13000, now - 300, 'good'],
    ]);
    expect(h.sink.deadLetters).toHaveLength(0);
    expect(h.raw).toHaveLength(0);
  });

  it('counts a seq gap and asks the node for a rebirth', async () => {
    const h = harness();
    await h.send('spBv1.0/plant/NBIRTH/plc1', encode({ timestamp: now, seq: 0, metrics: [{ name: 'Aeration/DO', alias: 7, type: 'Float', value: 2 }] }));
    await h.send('spBv1.0/plant/NDATA/plc1', encode({ timestamp: now, seq: 5, metrics: [{ alias: 7, type: 'Float', value: 2 }] }));
    expect(await counterValue(h.metrics, 'wwtp_edge_ingest_events_total', { event: 'seq_gap' })).toBe(1);
    expect(h.raw.map((m) => m.topic)).toEqual(['spBv1.0/plant/NCMD/plc1']);
    const command = codec.decodePayload(h.raw[0]!.payload);
    expect(command.metrics?.[0]).toMatchObject({ name: 'Node Control/Rebirth', value: true });
  });

  it('asks for a rebirth when data names an unknown alias, and dead-letters it', async () => {
    const h = harness();
    await h.send('spBv1.0/plant/NDATA/plc1', encode({ timestamp: now, seq: 4, metrics: [{ alias: 99, type: 'Float', value: 2 }] }));
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual(['sparkplug_unknown_metric']);
    expect(h.raw).toHaveLength(1);
  });

  it('marks the node\'s signals bad on NDEATH', async () => {
    const h = harness();
    await h.send('spBv1.0/plant/NBIRTH/plc1', encode({ timestamp: now - 10, seq: 0, metrics: [{ name: 'Aeration/DO', type: 'Float', value: 2 }] }));
    await h.send('spBv1.0/plant/NDEATH/plc1', encode({ timestamp: now, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] }));
    expect(h.sink.readings.at(-1)).toMatchObject({ stage: 'aerobic', signal: 'do', value: 2, quality: 'bad', ts: now });
  });

  it('ignores a death from an earlier session (bdSeq of another birth) and keeps the node alive', async () => {
    const h = harness();
    await h.send('spBv1.0/plant/NBIRTH/plc1', encode({ timestamp: now - 20, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 4 }, { name: 'Aeration/DO', alias: 7, type: 'Float', value: 2 }] }));
    // The will of the connection before the reconnect, delivered late by the broker.
    await h.send('spBv1.0/plant/NDEATH/plc1', encode({ timestamp: now - 10, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 3 }] }));
    expect(h.sink.readings.map((r) => r.quality)).toEqual(['good']);
    expect(await counterValue(h.metrics, 'wwtp_edge_ingest_events_total', { event: 'ignored:sparkplug_stale_death' })).toBe(1);
    // Aliases of the current birth still resolve; the current session's death still counts.
    await h.send('spBv1.0/plant/NDATA/plc1', encode({ timestamp: now - 5, seq: 1, metrics: [{ alias: 7, type: 'Float', value: 2.2 }] }));
    await h.send('spBv1.0/plant/NDEATH/plc1', encode({ timestamp: now, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 4 }] }));
    expect(h.sink.readings.map((r) => r.quality)).toEqual(['good', 'good', 'bad']);
    expect(h.raw).toHaveLength(0);
  });

  it.each([
    ['sparkplug_decode', 'spBv1.0/plant/NDATA/plc1', Buffer.from([0xff, 0xff, 0xff, 0x01])],
    ['unknown_topic', 'spBv1.0/plant/NDATA', Buffer.from([])],
    ['unknown_topic', 'spBv1.0/plant/BOGUS/plc1', Buffer.from([])],
    ['unknown_signal', 'spBv1.0/plant/NBIRTH/plc1', encode({ seq: 0, metrics: [{ name: 'Ghost', type: 'Float', value: 1 }] })],
    ['out_of_range', 'spBv1.0/plant/NBIRTH/plc1', encode({ seq: 0, metrics: [{ name: 'Aeration/DO', type: 'Float', value: 99 }] })],
    ['wrong_type', 'spBv1.0/plant/NBIRTH/plc1', encode({ seq: 0, metrics: [{ name: 'Aeration/DO', type: 'String', value: 'high' }] })],
  ])('dead-letters %s', async (reason, topic, payload) => {
    const h = harness();
    expect(await h.send(topic, payload)).toBe(true);
    expect(h.sink.deadLetters.map((d) => d.reason)).toEqual([reason]);
  });

  it('ignores node commands and host state', async () => {
    const h = harness();
    await h.send('spBv1.0/plant/NCMD/plc1', encode({ metrics: [] }));
    await h.send('spBv1.0/STATE/scada1', Buffer.from('{"online":true}'));
    expect(h.sink.deadLetters).toHaveLength(0);
  });
});

/** The same handler behind the embedded broker, over TCP, from an MQTT.js Sparkplug node. */
describe('Sparkplug B through the embedded broker', () => {
  const { track, connect } = openedPerTest();
  const spConfig = () =>
    testConfig({
      broker: { mode: 'embedded', embedded: { host: '127.0.0.1', port: 0, wsPort: null, allowAnonymous: true } },
      ingest: { sparkplug: { metrics: [{ node: 'plc1', metric: 'Aeration/DO', stage: 'aerobic', signal: 'do' }, { node: 'plc1', device: 'blower1', metric: 'Airflow', stage: 'aerobic', signal: 'airflow' }] } },
    });

  it('dead-letters births and data without metrics (empty payloads) instead of absorbing them', async () => {
    const d = track(await startDaemonSide({ mode: 'embedded', config: spConfig() }));
    const node = await connect(d.url());
    const sends: [string, Buffer][] = [
      ['spBv1.0/plant/NBIRTH/plc1', Buffer.alloc(0)],
      ['spBv1.0/plant/NDATA/plc1', Buffer.alloc(0)],
      ['spBv1.0/plant/DDATA/plc1/blower1', Buffer.alloc(0)],
      ['spBv1.0/plant/DBIRTH/plc1/blower1', encode({ timestamp: Date.now(), seq: 1 })],
    ];
    for (const [topic, payload] of sends) await node.publishAsync(topic, payload, { qos: 1 });
    await until(() => d.sink.deadLetters.length === 4, 'four dead letters');
    expect(d.sink.deadLetters.map((x) => [x.topic, x.reason])).toEqual(sends.map(([topic]) => [topic, 'sparkplug_decode']));
    expect(await counterValue(d.metrics, 'wwtp_edge_dead_letters_total', { reason: 'sparkplug_decode' })).toBe(4);
    expect(d.sink.readings).toEqual([]);
  });

  it('dates an NDEATH will (built at connect) after the node\'s last data, so the signals end bad', async () => {
    const d = track(await startDaemonSide({ mode: 'embedded', config: spConfig() }));
    const connectedAt = Date.now() - 20_000;
    // As a Sparkplug edge node does: the will's payload (with its timestamp) is built when it connects.
    const node = await client(d.url(), { clientId: 'plc1', will: { topic: 'spBv1.0/plant/NDEATH/plc1', payload: encode({ timestamp: connectedAt, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] }), qos: 1, retain: false } });
    await node.publishAsync('spBv1.0/plant/NBIRTH/plc1', encode({ timestamp: connectedAt, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, { name: 'Aeration/DO', alias: 1, type: 'Float', value: 2 }] }), { qos: 1 });
    const lastData = Date.now() - 1_000;
    await node.publishAsync('spBv1.0/plant/NDATA/plc1', encode({ timestamp: lastData, seq: 1, metrics: [{ alias: 1, type: 'Float', value: 2.5 }] }), { qos: 1 });
    node.stream.destroy();
    await until(() => d.sink.readings.some((r) => r.quality === 'bad'), 'death marks');
    const latest = [...d.sink.readings].sort((a, b) => a.ts - b.ts).at(-1);
    expect(latest).toMatchObject({ stage: 'aerobic', signal: 'do', quality: 'bad', value: 2.5 });
    expect(latest!.ts).toBeGreaterThan(lastData);
  });
});
