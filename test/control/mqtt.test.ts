import mqtt from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createControl } from '../../src/control/index.js';
import type { AlarmSink } from '../../src/contract/ports.js';
import { hmiLoopModeTopic, setpointMessage } from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { healthyPlant } from './helpers.js';
import { decodeHmi, defaultControl, Inbox, ManualClock, MemoryStateStore, MemoryTables, startBroker } from './memory.js';

const SITE = 'plant1';
const T = 1_700_000_000_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function connect(url: string, inbox?: Inbox) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  if (inbox) client.on('message', (topic, payload, packet) => inbox.push(topic, payload, packet.retain));
  cleanups.push(() => client.endAsync());
  return client;
}

describe('control over MQTT (embedded aedes)', () => {
  it('HMI manual/auto mode changes reach the loop and come back as retained setpoints, manual survives a restart', async () => {
    const broker = await startBroker(SITE);
    cleanups.push(() => broker.close());
    const state = new MemoryStateStore();
    const alarms: AlarmSink = { raise: () => undefined, clear: () => undefined };
    const make = () =>
      createControl({ config: defaultControl(), site: SITE, publisher: broker.publisher, tables: new MemoryTables(), state, alarms, logger: silentLogger(), clock: new ManualClock(T) });
    let control = make();
    await control.start();

    // The daemon's command path: subscribe to the HMI topics, decode with the contract's zod schemas.
    const daemon = await connect(broker.url);
    let rejected = 0;
    daemon.on('message', (topic, payload) => {
      const cmd = decodeHmi(SITE, topic, payload, T + 1000);
      if (cmd) control.onCommand(cmd);
      else rejected++;
    });
    await daemon.subscribeAsync(`wwtp/${SITE}/hmi/#`, { qos: 1 });

    const hmiInbox = new Inbox();
    const hmi = await connect(broker.url, hmiInbox);
    await hmi.subscribeAsync(`wwtp/${SITE}/+/setpoint/#`, { qos: 1 });

    control.onWindow(healthyPlant(T));
    const auto = setpointMessage.parse(JSON.parse((await hmiInbox.next((m) => m.topic === `wwtp/${SITE}/aerobic/setpoint/do`)).payload));
    expect(auto.mode).toBe('auto');

    await hmi.publishAsync(hmiLoopModeTopic(SITE, 'do'), JSON.stringify({ mode: 'manual', value: 2.7, by: 'anna' }), { qos: 1 });
    const manual = setpointMessage.parse(JSON.parse((await hmiInbox.next((m) => m.topic.endsWith('/setpoint/do') && m.payload.includes('manual'))).payload));
    expect(manual).toMatchObject({ mode: 'manual', value: 2.7 });

    // Malformed command: rejected by the schema, nothing changes.
    await hmi.publishAsync(hmiLoopModeTopic(SITE, 'do'), JSON.stringify({ mode: 'sideways', by: 'anna' }), { qos: 1 });

    // Restart: a new controller over the same state keeps manual mode.
    await control.stop();
    control = make();
    control.onWindow(healthyPlant(T + 300_000));
    const held = setpointMessage.parse(JSON.parse((await hmiInbox.next((m) => m.topic.endsWith('/setpoint/do') && m.payload.includes(`"ts":${T + 300_000}`))).payload));
    expect(held).toMatchObject({ mode: 'manual', value: 2.7 });
    await vi.waitFor(() => expect(rejected).toBe(1));

    // A late subscriber gets the retained setpoint.
    const lateInbox = new Inbox();
    const late = await connect(broker.url, lateInbox);
    await late.subscribeAsync(`wwtp/${SITE}/aerobic/setpoint/do`, { qos: 1 });
    const retained = await lateInbox.next(() => true);
    expect(retained.retain).toBe(true);
    expect(JSON.parse(retained.payload)).toMatchObject({ mode: 'manual', value: 2.7 });

    await hmi.publishAsync(hmiLoopModeTopic(SITE, 'do'), JSON.stringify({ mode: 'auto', by: 'anna' }), { qos: 1 });
    const back = setpointMessage.parse(JSON.parse((await hmiInbox.next((m) => m.topic.endsWith('/setpoint/do') && m.payload.includes('"mode":"auto"'))).payload));
    expect(back.value).toBe(2.7);
    await control.stop();
  });

  it('republishes each loop\'s last setpoint, retained, when it starts on a broker that lost its retained messages', async () => {
    const state = new MemoryStateStore();
    const alarms: AlarmSink = { raise: () => undefined, clear: () => undefined };
    const make = (publisher: Parameters<typeof createControl>[0]['publisher']) =>
      createControl({ config: defaultControl(), site: SITE, publisher, tables: new MemoryTables(), state, alarms, logger: silentLogger(), clock: new ManualClock(T) });
    const first = await startBroker(SITE);
    const before = make(first.publisher);
    await before.start();
    const [published] = before.onWindow(healthyPlant(T)).filter((r) => r.loop === 'do');
    await before.stop();
    await first.close();

    // A new embedded broker: nothing retained until the control starts again.
    const second = await startBroker(SITE);
    cleanups.push(() => second.close());
    const after = make(second.publisher);
    await after.start();
    const inbox = new Inbox();
    const hmi = await connect(second.url, inbox);
    await hmi.subscribeAsync(`wwtp/${SITE}/aerobic/setpoint/do`, { qos: 1 });
    const retained = await inbox.next(() => true);
    expect(retained.retain).toBe(true);
    expect(setpointMessage.parse(JSON.parse(retained.payload))).toMatchObject({ value: published?.value, ts: T, mode: 'auto', validUntil: published?.validUntil });
    await after.stop();
  });
});
