import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readingJson } from '../../src/contract/topics.js';
import { createTwin } from '../../src/sim/twin.js';

let broker: Aedes;
let server: Server;
let url = '';

beforeAll(async () => {
  broker = await Aedes.createBroker();
  server = createServer(broker.handle);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((res) => broker.close(() => res()));
  await new Promise<void>((res) => server.close(() => res()));
});

describe('twin over MQTT', () => {
  it('publishes contract readings and obeys a DO setpoint until validUntil', async () => {
    const epochMs = Date.UTC(2025, 0, 1);
    const sub = await mqtt.connectAsync(url);
    const readings: { topic: string; value: number; ts: number }[] = [];
    sub.on('message', (topic, payload) => {
      const r = readingJson.parse(JSON.parse(payload.toString()));
      readings.push({ topic, value: r.value, ts: r.ts as number });
    });
    await sub.subscribeAsync('wwtp/demo/+/+');
    // Retained setpoint: the PLC takes DO = 1 mg/L for the first 6 plant hours, then reverts to 2.
    await sub.publishAsync('wwtp/demo/aerobic/setpoint/do', JSON.stringify({
      value: 1, unit: 'mg/L', ts: epochMs, mode: 'auto', reason: 'test', validUntil: epochMs + 6 * 3_600_000,
    }), { qos: 1, retain: true });
    const dir = mkdtempSync(join(tmpdir(), 'twin-'));
    const truthFile = join(dir, 'truth.jsonl');
    const twin = createTwin({
      broker: url, speed: 200_000, days: 0.5, stabilise: false, epochMs, seed: 5, influent: 'const', truthFile,
      faults: [{ kind: 'sensor_bias', stage: 'effluent', signal: 'nh4_n', start: 0.1, end: 0.2, magnitude: 3 }],
    });
    await twin.start(new AbortController().signal);
    await twin.finished();
    await twin.stop();
    await new Promise((r) => setTimeout(r, 200));
    await sub.endAsync();
    expect(twin.stats.setpointsApplied).toBeGreaterThanOrEqual(1);
    const topics = new Set(readings.map((r) => r.topic));
    expect(topics.size).toBeGreaterThanOrEqual(50);
    expect(topics.has('wwtp/demo/aerobic/do')).toBe(true);
    const dos = readings.filter((r) => r.topic === 'wwtp/demo/aerobic/do');
    const mean = (from: number, to: number): number => {
      const v = dos.filter((r) => r.ts >= epochMs + from * 3_600_000 && r.ts < epochMs + to * 3_600_000).map((r) => r.value);
      return v.reduce((s, x) => s + x, 0) / v.length;
    };
    expect(mean(3, 6)).toBeLessThan(1.3);
    expect(mean(9, 12)).toBeGreaterThan(1.7);
    const truth = readFileSync(truthFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(truth).toEqual([{ kind: 'sensor_bias', stage: 'effluent', signal: 'nh4_n', start: epochMs + 0.1 * 86_400_000, end: epochMs + 0.2 * 86_400_000 }]);
  });

  it('in lockstep waits for every loop to answer each interval', async () => {
    const epochMs = Date.UTC(2025, 0, 1);
    const supervisor = await mqtt.connectAsync(url);
    const loops = { do: 'aerobic', internal_recycle: 'anoxic', carbon_dose: 'anoxic', coagulant_dose: 'phosphorus', backwash_interval: 'membrane', was_flow: 'secondary' };
    const values = { do: 2, internal_recycle: 20000, carbon_dose: 0, coagulant_dose: 8, backwash_interval: 15, was_flow: 385 };
    const answered: number[] = [];
    supervisor.on('message', (_topic, payload) => {
      const ts = (JSON.parse(payload.toString()) as { ts: number }).ts;
      if ((ts - epochMs) % (15 * 60_000) !== 0 || ts === epochMs) return;
      answered.push(ts);
      for (const [loop, stage] of Object.entries(loops)) {
        supervisor.publish(`wwtp/demo/${stage}/setpoint/${loop}`, JSON.stringify({
          value: values[loop as keyof typeof values], unit: 'x', ts, mode: 'auto', reason: 'lockstep', validUntil: ts + 900_000,
        }), { qos: 1, retain: true });
      }
    });
    await supervisor.subscribeAsync('wwtp/demo/influent/flow');
    const twin = createTwin({ broker: url, lockstep: true, lockstepTimeoutMs: 5_000, days: 0.125, stabilise: false, epochMs, influent: 'const' });
    await twin.start(new AbortController().signal);
    await twin.finished();
    await twin.stop();
    await supervisor.endAsync();
    expect(answered).toHaveLength(12);
    expect(twin.stats.lockstepTimeouts).toBe(0);
  });
});
