import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { outTopic, readingTopic } from '../../src/contract/topics.js';
import { client, mosquittoAvailable, startDaemonSide, until, type DaemonSide } from './helpers.js';

/**
 * One contract for both broker modes (embedded aedes on port 0, the machine's Mosquitto): the same
 * behaviour seen from a PLC/HMI client and from the daemon.
 */
const modes = [
  { mode: 'embedded' as const, available: () => Promise.resolve(true) },
  { mode: 'external' as const, available: mosquittoAvailable },
];

for (const { mode, available } of modes) {
  describe(`broker contract: ${mode}`, () => {
    const open: { daemon?: DaemonSide; clients: MqttClient[] } = { clients: [] };
    afterEach(async () => {
      await Promise.all(open.clients.map((c) => c.endAsync(true)));
      open.clients = [];
      await open.daemon?.stop();
      open.daemon = undefined;
    });
    const setup = async (): Promise<{ daemon: DaemonSide; plc: MqttClient } | undefined> => {
      if (!(await available())) return undefined;
      const daemon = await startDaemonSide({ mode });
      open.daemon = daemon;
      const plc = await client(daemon.url());
      open.clients.push(plc);
      return { daemon, plc };
    };

    it('stores QoS 1 and QoS 0 readings and reports connected', async (t) => {
      const s = await setup();
      if (!s) return t.skip();
      expect(s.daemon.broker.connected()).toBe(true);
      await s.plc.publishAsync(readingTopic(s.daemon.config.site, 'aerobic', 'do'), '2.1', { qos: 1 });
      await s.plc.publishAsync(readingTopic(s.daemon.config.site, 'aerobic', 'nh4_n'), JSON.stringify({ value: 1.5, quality: 'uncertain' }), { qos: 0 });
      await until(() => s.daemon.sink.readings.length === 2, 'two readings');
      expect(s.daemon.sink.readings.map((r) => [r.signal, r.value, r.quality]).sort()).toEqual([
        ['do', 2.1, 'good'],
        ['nh4_n', 1.5, 'uncertain'],
      ]);
      expect(s.daemon.committed).toHaveLength(2);
    });

    it('dead-letters a bad reading to the table and the dead-letter topic', async (t) => {
      const s = await setup();
      if (!s) return t.skip();
      const watcher = await client(s.daemon.url());
      open.clients.push(watcher);
      const seen: string[] = [];
      watcher.on('message', (_topic, payload) => seen.push(payload.toString()));
      await watcher.subscribeAsync(outTopic(s.daemon.config.site, 'deadletter', {}), { qos: 0 });
      await s.plc.publishAsync(readingTopic(s.daemon.config.site, 'aerobic', 'do'), 'NaN', { qos: 1 });
      await until(() => seen.length === 1, 'dead letter on its topic');
      expect(JSON.parse(seen[0] ?? '{}')).toMatchObject({ reason: 'not_finite', payload: 'NaN', topic: readingTopic(s.daemon.config.site, 'aerobic', 'do') });
      expect(s.daemon.sink.deadLetters.map((d) => d.reason)).toEqual(['not_finite']);
    });

    it('passes HMI commands on', async (t) => {
      if (!(await available())) return t.skip();
      const daemon = await startDaemonSide({ mode, broker: mode === 'embedded' ? { anonymousRole: 'hmi' } : {} });
      open.daemon = daemon;
      const hmi = await client(daemon.url());
      open.clients.push(hmi);
      await hmi.publishAsync(`wwtp/${daemon.config.site}/hmi/loops/do/mode`, JSON.stringify({ mode: 'manual', value: 1.5, by: 'op' }), { qos: 1 });
      await until(() => daemon.commands.length === 1, 'command');
      expect(daemon.commands[0]).toMatchObject({ kind: 'loop_mode', loop: 'do', mode: 'manual', value: 1.5, by: 'op' });
    });

    it('delivers the daemon\'s retained setpoint to a late subscriber', async (t) => {
      const s = await setup();
      if (!s) return t.skip();
      const topic = outTopic(s.daemon.config.site, 'setpoint', { stage: 'aerobic', loop: 'do' });
      await s.daemon.broker.publish(topic, JSON.stringify({ value: 2 }), { qos: 1, retain: true });
      const late = await client(s.daemon.url());
      open.clients.push(late);
      const got = new Promise<{ payload: string; retain: boolean }>((resolve) => late.on('message', (_t, p, packet) => resolve({ payload: p.toString(), retain: packet.retain })));
      await late.subscribeAsync(topic, { qos: 1 });
      expect(await got).toEqual({ payload: '{"value":2}', retain: true });
      await s.daemon.broker.publish(topic, '', { qos: 1, retain: true });
      expect(s.daemon.sink.deadLetters).toHaveLength(0);
    });

    it('gets a reading again when the store refused it the first time', async (t) => {
      const s = await setup();
      if (!s) return t.skip();
      s.daemon.sink.mode = 'reject';
      const resend = await client(s.daemon.url(), { reconnectPeriod: 200, clean: false, clientId: `plc-${s.daemon.config.site}` });
      open.clients.push(resend);
      const published = resend.publishAsync(readingTopic(s.daemon.config.site, 'aerobic', 'do'), '2.5', { qos: 1 });
      await until(() => s.daemon.sink.appends.length >= 1, 'first (refused) append');
      s.daemon.sink.mode = 'resolve';
      await until(() => s.daemon.sink.readings.length >= 1, 'redelivered reading', 15_000);
      await published;
      expect(s.daemon.sink.readings[0]).toMatchObject({ signal: 'do', value: 2.5 });
    });

    it('stores a burst of QoS 1 readings from several clients, each once', async (t) => {
      const s = await setup();
      if (!s) return t.skip();
      const others = await Promise.all([client(s.daemon.url()), client(s.daemon.url())]);
      open.clients.push(...others);
      const publishers = [s.plc, ...others];
      const perClient = 700;
      await Promise.all(publishers.map((c, k) => Promise.all(Array.from({ length: perClient }, (_, i) => c.publishAsync(readingTopic(s.daemon.config.site, 'influent', 'flow'), String(k * 10_000 + i), { qos: 1 })))));
      await until(() => s.daemon.sink.readings.length >= perClient * publishers.length, 'all readings');
      const values = new Set(s.daemon.sink.readings.map((r) => r.value));
      expect(values.size).toBe(perClient * publishers.length);
    });
  });
}
