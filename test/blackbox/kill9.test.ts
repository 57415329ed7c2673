import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { edgeEnv, record, SCALE, startEdge, tempDir, uniqueSite } from './harness.js';

/**
 * Guarantee 1 from the outside, for readings and for dead letters: one MQTT.js client streams QoS 1
 * messages (9 valid readings, then one out of range) with up to 1,000 in flight into the built
 * daemon, which is killed with SIGKILL mid-stream, restarted on the same file, and killed again.
 * Every PUBACK the client got must have its row: the reading in `readings`, the rejected message in
 * `deadletters`.
 */
const KILLS = 10 * SCALE;
const IN_FLIGHT = 1_000;
const base = Date.now() - 86_400_000;

interface Tally {
  readings: Set<number>;
  deadLetters: Set<number>;
  sent: number;
  ms: number;
}

async function streamUntilKilled(port: number, site: string, kill: () => void, tally: Tally, killAfter: number, next: { n: number }): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: `bb-kill9-${next.n}` });
  client.on('error', () => undefined);
  let acked = 0;
  let inFlight = 0;
  let killed = false;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    client.once('close', () => resolve());
    const pump = (): void => {
      while (!killed && inFlight < IN_FLIGHT) {
        const n = next.n++;
        const ts = base + n;
        const bad = n % 10 === 9;
        // out of range (aerobic DO 0..12 mg/L): a dead letter whose payload carries its ts
        const value = bad ? 500 + (n % 7) : 2 + (n % 10) / 10;
        inFlight += 1;
        tally.sent += 1;
        client.publish(`wwtp/${site}/aerobic/do`, JSON.stringify({ value, ts }), { qos: 1 }, (error) => {
          inFlight -= 1;
          if (error) return;
          (bad ? tally.deadLetters : tally.readings).add(ts);
          acked += 1;
          if (!killed && acked >= killAfter) {
            killed = true;
            tally.ms += Date.now() - started;
            kill();
          }
          pump();
        });
      }
    };
    pump();
  });
  client.end(true);
}

describe('kill -9 under a QoS 1 stream of readings and dead letters (built daemon)', () => {
  const tally: Tally = { readings: new Set(), deadLetters: new Set(), sent: 0, ms: 0 };
  let stored = { readings: new Set<number>(), deadLetters: new Set<number>() };
  let kills = 0;
  let healthy = 0;

  beforeAll(async () => {
    const dir = tempDir('wwtp-bb-kill9-');
    const site = uniqueSite('k');
    const next = { n: 0 };
    for (let rep = 0; rep < KILLS; rep += 1) {
      const edge = await startEdge(edgeEnv(dir, site));
      if ((await fetch(edge.url('/healthz'))).status === 200) healthy += 1;
      // kill at a different point of the stream each time
      await streamUntilKilled(edge.mqttPort, site, () => edge.child.kill('SIGKILL'), tally, 4_000 + ((rep * 2_731) % 6_000), next);
      const exit = await edge.exited();
      if (exit.signal === 'SIGKILL') kills += 1;
    }
    const db = new Database(join(dir, 'edge.sqlite'), { readonly: true });
    stored = {
      readings: new Set(db.prepare("SELECT ts FROM readings WHERE stage = 'aerobic' AND signal = 'do'").pluck().all() as number[]),
      deadLetters: new Set(
        (db.prepare("SELECT payload FROM deadletters WHERE reason = 'out_of_range'").pluck().all() as string[]).map((p) => (JSON.parse(p) as { ts: number }).ts),
      ),
    };
    db.close();
  }, 60_000 + KILLS * 20_000);

  const missing = (acked: Set<number>, kept: Set<number>): number => [...acked].filter((ts) => !kept.has(ts)).length;

  it(`kills the daemon ${KILLS} times mid-stream`, () => {
    const acked = tally.readings.size + tally.deadLetters.size;
    const rate = Math.round(acked / (tally.ms / 1000));
    record('kill9', {
      kills,
      sent: tally.sent,
      ackedReadings: tally.readings.size,
      lostReadings: missing(tally.readings, stored.readings),
      ackedDeadLetters: tally.deadLetters.size,
      lostDeadLetters: missing(tally.deadLetters, stored.deadLetters),
      messagesPerSecond: rate,
    });
    expect(kills).toBe(KILLS);
    // every restart on the killed file answers /healthz
    expect(healthy).toBe(KILLS);
    expect(acked).toBeGreaterThan(KILLS * 4_000);
  });

  it('every acknowledged reading is in SQLite', () => {
    expect(missing(tally.readings, stored.readings)).toBe(0);
  });

  it('every acknowledged dead letter is in SQLite', () => {
    expect(missing(tally.deadLetters, stored.deadLetters)).toBe(0);
  });
});
