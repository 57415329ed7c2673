import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { EdgeConfig } from '../../src/config/schema.js';
import type { AlarmMessage } from '../../src/contract/topics.js';
import { hashPassword } from '../../src/broker/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { tempDir } from '../helpers/daemon.js';

/**
 * The alarm lifecycle over MQTT through the whole daemon: a process limit raises an alarm, the HMI acks
 * it, the daemon restarts on the same store, and the retained alarm state it publishes again is still
 * acknowledged by the same operator. A PLC user publishes the readings, an HMI user acks.
 */
const site = 'alarmrestart';
const alarmTopic = `wwtp/${site}/alarms/limit.membrane.tmp`;

async function boot(config: Readonly<EdgeConfig>): Promise<{ runtime: Runtime; client: MqttClient; plc: MqttClient; states: AlarmMessage[] }> {
  const runtime = createRuntime(config, { logger: silentLogger() });
  await runtime.start(new AbortController().signal);
  const url = `mqtt://127.0.0.1:${runtime.ports().mqtt}`;
  const client = await mqtt.connectAsync(url, { clientId: `hmi-${Math.random()}`, username: 'hmi1', password: 'hmi-secret-1' });
  const plc = await mqtt.connectAsync(url, { clientId: `plc-${Math.random()}`, username: 'plc1', password: 'plc-secret-1' });
  const states: AlarmMessage[] = [];
  client.on('message', (topic, payload) => {
    if (topic === alarmTopic) states.push(JSON.parse(payload.toString()) as AlarmMessage);
  });
  await client.subscribeAsync(`wwtp/${site}/alarms/#`, { qos: 1 });
  return { runtime, client, plc, states };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('alarm lifecycle through the daemon', () => {
  it('raises, takes the HMI ack over MQTT and keeps the acked state across a restart', async () => {
    const dir = tempDir('wwtp-alarm-restart-');
    const users = [
      { username: 'plc1', passwordHash: await hashPassword('plc-secret-1'), role: 'plc' },
      { username: 'hmi1', passwordHash: await hashPassword('hmi-secret-1'), role: 'hmi' },
    ];
    const config = loadConfig({
      override: {
        site,
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: false, users } },
        http: { enabled: false },
        storage: { path: join(dir, 'edge.sqlite') },
        models: { enabled: false },
        windows: { allowedLatenessSec: 0 },
        alarms: { onDelaySec: 0, limits: [{ stage: 'membrane', signal: 'tmp', high: 60, severity: 'high' }] },
      },
    });
    const first = await boot(config);
    const t0 = Math.floor((Date.now() - 3_600_000) / 300_000) * 300_000;
    for (let minute = 0; minute <= 30; minute += 1) {
      await first.plc.publishAsync(`wwtp/${site}/membrane/tmp`, JSON.stringify({ value: 80, ts: t0 + minute * 60_000 }), { qos: 1 });
    }
    await first.runtime.idle();
    await until(() => first.states.some((s) => s.state === 'active_unack'), 'the alarm');
    await first.client.publishAsync(`wwtp/${site}/hmi/alarms/limit.membrane.tmp/ack`, JSON.stringify({ by: 'operator-1', comment: 'checking the membrane' }), { qos: 1 });
    await until(() => first.states.at(-1)?.state === 'active_ack', 'the ack');
    expect(first.states.at(-1)?.ackedBy).toBe('operator-1');
    await first.client.endAsync();
    await first.plc.endAsync();
    await first.runtime.stop();

    const second = await boot(config);
    try {
      await until(() => second.states.length > 0, 'the retained state after restart');
      expect(second.states.at(-1)).toMatchObject({ id: 'limit.membrane.tmp', state: 'active_ack', ackedBy: 'operator-1', severity: 'high', stage: 'membrane' });
    } finally {
      await second.client.endAsync();
      await second.plc.endAsync();
      await second.runtime.stop();
    }
  }, 60_000);
});
