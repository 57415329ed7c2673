import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlarms } from '../../src/alarms/index.js';
import { alarmMessage, hmiAlarmAckTopic, hmiAlarmShelveTopic } from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { decodeHmi, defaultAlarms, defaultSignals, Inbox, ManualClock, MemoryStateStore, MemoryTables, startBroker } from '../control/memory.js';

const SITE = 'plant1';
const T = 1_700_000_000_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('alarms over MQTT (embedded aedes)', () => {
  it('retained alarm states, HMI acks, shelving and flood control', async () => {
    const broker = await startBroker(SITE);
    cleanups.push(() => broker.close());
    const clock = new ManualClock(T);
    const tables = new MemoryTables();
    const alarms = createAlarms({
      config: defaultAlarms({ onDelaySec: 0, offDelaySec: 0, floodLimit: 3 }),
      site: SITE,
      signals: defaultSignals(),
      publisher: broker.publisher,
      tables,
      state: new MemoryStateStore(),
      logger: silentLogger(),
      clock,
    });
    await alarms.start();
    cleanups.push(() => alarms.stop());

    const daemon = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(() => daemon.endAsync());
    daemon.on('message', (topic, payload) => {
      const cmd = decodeHmi(SITE, topic, payload, clock.now());
      if (cmd) alarms.onCommand(cmd);
    });
    await daemon.subscribeAsync(`wwtp/${SITE}/hmi/#`, { qos: 1 });

    const inbox = new Inbox();
    const hmi = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(() => hmi.endAsync());
    hmi.on('message', (topic, payload, packet) => inbox.push(topic, payload, packet.retain));
    await hmi.subscribeAsync(`wwtp/${SITE}/alarms/#`, { qos: 1 });
    const state = async (id: string, s: string) =>
      alarmMessage.parse(JSON.parse((await inbox.next((m) => m.topic === `wwtp/${SITE}/alarms/${id}` && m.payload.includes(`"state":"${s}"`))).payload));

    alarms.sink.raise({ id: 'anomaly.aerobic', severity: 'high', stage: 'aerobic', message: 'anomaly score 3.2' }, T);
    expect(await state('anomaly.aerobic', 'active_unack')).toMatchObject({ severity: 'high', stage: 'aerobic', raisedAt: T });

    await hmi.publishAsync(hmiAlarmAckTopic(SITE, 'anomaly.aerobic'), JSON.stringify({ by: 'anna', comment: 'looking' }), { qos: 1 });
    expect(await state('anomaly.aerobic', 'active_ack')).toMatchObject({ ackedBy: 'anna' });

    await hmi.publishAsync(hmiAlarmShelveTopic(SITE, 'anomaly.aerobic'), JSON.stringify({ by: 'anna', minutes: 15 }), { qos: 1 });
    await state('anomaly.aerobic', 'shelved');
    clock.advance(16 * 60_000);
    expect(await state('anomaly.aerobic', 'active_unack')).toMatchObject({ id: 'anomaly.aerobic' });

    // Flood: 3 new alarms fit under the limit in the window, the fourth starts the flood.
    const t = clock.now();
    for (let i = 0; i < 6; i++) alarms.sink.raise({ id: `stale.effluent.s${i}`, severity: 'medium', stage: 'effluent', message: 'stale' }, t + i);
    expect(await state('flood', 'active_unack')).toMatchObject({ severity: 'high' });
    expect(alarms.list().flood).toMatchObject({ active: true, suppressed: 3 });

    // A late HMI sees the current states, retained.
    const lateInbox = new Inbox();
    const late = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    cleanups.push(() => late.endAsync());
    late.on('message', (topic, payload, packet) => lateInbox.push(topic, payload, packet.retain));
    await late.subscribeAsync(`wwtp/${SITE}/alarms/flood`, { qos: 1 });
    const retained = await lateInbox.next(() => true);
    expect(retained.retain).toBe(true);
    expect(tables.rows.alarm_events.map((r) => r.state)).toContain('shelved');
  });
});
