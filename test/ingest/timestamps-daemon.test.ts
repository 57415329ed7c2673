import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { type DaemonProcess, killAtCleanup, LOCAL_DAEMON_ENV, startDaemon, tempDir } from '../helpers/daemon.js';

/**
 * Issue 11 items 4 and 7 from the outside: the daemon as a child process, MQTT.js at QoS 1, its SQLite
 * file, /metrics and the dead-letter topic. An impossible date was rolled over into the next month; a
 * reading repeating a stored key with another value vanished although acknowledged and counted.
 */
const cleanups = cleanupsAfterEach();

async function daemonAndClient(tag: string, env: Record<string, string> = {}): Promise<{ daemon: DaemonProcess; db: string; client: MqttClient; letters: { reason: string; payload: string; detail?: string; topic: string }[] }> {
  const db = join(tempDir(`wwtp-${tag}-`), 'edge.sqlite');
  const daemon = await startDaemon({
    WWTP_EDGE_STORAGE__PATH: db,
    ...LOCAL_DAEMON_ENV,
    WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
    ...env,
  });
  cleanups.push(killAtCleanup(daemon));
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { reconnectPeriod: 0, clientId: `${tag}-${process.pid}` });
  cleanups.push(() => client.endAsync(true));
  const letters: { reason: string; payload: string; detail?: string; topic: string }[] = [];
  client.on('message', (_topic, payload) => letters.push(JSON.parse(payload.toString()) as (typeof letters)[number]));
  await client.subscribeAsync('wwtp/demo/edge/deadletter', { qos: 1 });
  return { daemon, db, client, letters };
}

async function metric(daemon: DaemonProcess, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${daemon.httpPort}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.slice(line.length + 1));
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('event time and keys, daemon as a child process', () => {
  it('refuses impossible dates and times as bad_timestamp instead of rolling them over', async () => {
    const { daemon, db, client, letters } = await daemonAndClient('isodates');
    const refused = ['2026-02-31T00:00:00Z', '2026-04-31T12:00:00Z', '2025-02-29T00:00:00Z', '2026-01-10T24:00:00Z', '2026-01-10T12:60:00Z', '2026-01-10T12:00:00+25:00', '2026-13-01'];
    const accepted = { '2024-02-29T00:00:00Z': Date.UTC(2024, 1, 29), '2026-04-30T12:00:00.250+02:00': Date.UTC(2026, 3, 30, 10, 0, 0, 250) };
    for (const ts of refused) await client.publishAsync('wwtp/demo/membrane/tmp', JSON.stringify({ value: 10, ts }), { qos: 1 });
    for (const ts of Object.keys(accepted)) await client.publishAsync('wwtp/demo/membrane/tmp', JSON.stringify({ value: 20, ts }), { qos: 1 });
    await until(() => letters.length >= refused.length);
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    expect(letters.map((l) => l.reason)).toEqual(refused.map(() => 'bad_timestamp'));
    expect(letters.map((l) => JSON.parse(l.payload) as { ts: string }).map((p) => p.ts)).toEqual(refused);
    const raw = new Database(db, { readonly: true });
    const stored = raw.prepare("SELECT ts, value FROM readings WHERE stage = 'membrane' AND signal = 'tmp' ORDER BY ts").all();
    const dead = raw.prepare("SELECT count(*) FROM deadletters WHERE reason = 'bad_timestamp'").pluck().get();
    raw.close();
    expect(stored).toEqual(Object.values(accepted).map((ts) => ({ ts, value: 20 })));
    expect(dead).toBe(refused.length);
  }, 60_000);

  it('a reading repeating a stored key: another value leaves a conflicting_duplicate dead letter, the same value is absorbed; both counted', async () => {
    const { daemon, db, client, letters } = await daemonAndClient('duplicates');
    const x = Date.UTC(2026, 0, 5, 8, 0, 0);
    const flux = 'wwtp/demo/membrane/flux';
    await client.publishAsync(flux, JSON.stringify({ value: 10, ts: x }), { qos: 1 });
    await client.publishAsync(flux, JSON.stringify({ value: 55, ts: x }), { qos: 1 });
    // One precision, whole milliseconds: X.25 is key X as well.
    await client.publishAsync(flux, JSON.stringify({ value: 56, ts: x + 0.25 }), { qos: 1 });
    await client.publishAsync(flux, JSON.stringify({ value: 10, ts: x }), { qos: 1 });
    await client.publishAsync(flux, JSON.stringify({ value: 11, ts: x + 1 }), { qos: 1 });
    // Both in one group commit: the first one takes the key.
    await Promise.all([client.publishAsync(flux, JSON.stringify({ value: 30, ts: x + 2 }), { qos: 1 }), client.publishAsync(flux, JSON.stringify({ value: 31, ts: x + 2 }), { qos: 1 })]);
    await until(() => letters.length >= 3);
    expect(await metric(daemon, 'wwtp_edge_readings_total{stage="membrane"}')).toBe(3);
    expect(await metric(daemon, 'wwtp_edge_duplicate_readings_total{kind="conflicting"}')).toBe(3);
    expect(await metric(daemon, 'wwtp_edge_duplicate_readings_total{kind="exact"}')).toBe(1);
    expect(await metric(daemon, 'wwtp_edge_dead_letters_total{reason="conflicting_duplicate"}')).toBe(3);
    daemon.child.kill('SIGTERM');
    await daemon.exited();

    expect(letters.map((l) => [l.topic, l.reason])).toEqual([
      [flux, 'conflicting_duplicate'],
      [flux, 'conflicting_duplicate'],
      [flux, 'conflicting_duplicate'],
    ]);
    const [first, second, third] = letters;
    expect(JSON.parse(first?.payload ?? '{}')).toMatchObject({ value: 55, ts: x });
    expect(first?.detail).toContain('holds 10');
    expect(JSON.parse(second?.payload ?? '{}')).toMatchObject({ value: 56, ts: x });
    expect(JSON.parse(third?.payload ?? '{}')).toMatchObject({ value: 31, ts: x + 2 });
    expect(third?.detail).toContain('holds 30');
    const raw = new Database(db, { readonly: true });
    const stored = raw.prepare("SELECT ts, value FROM readings WHERE stage = 'membrane' AND signal = 'flux' ORDER BY ts").all();
    const dead = raw.prepare("SELECT payload, detail FROM deadletters WHERE reason = 'conflicting_duplicate' ORDER BY seq").all() as { payload: string; detail: string }[];
    raw.close();
    expect(stored).toEqual([
      { ts: x, value: 10 },
      { ts: x + 1, value: 11 },
      { ts: x + 2, value: 30 },
    ]);
    expect(dead.map((d) => (JSON.parse(d.payload) as { value: number }).value)).toEqual([55, 56, 31]);
  }, 60_000);

  it('a conflicting duplicate stays out of the windows: a good reading repeating the key of a stored bad one is not windowed', async () => {
    const { daemon, db, client, letters } = await daemonAndClient('dupwindow', {
      WWTP_EDGE_WINDOWS__SIZE_SEC: '60',
      WWTP_EDGE_WINDOWS__SLIDE_SEC: '60',
      WWTP_EDGE_WINDOWS__ALLOWED_LATENESS_SEC: '0',
    });
    const minute = 60_000;
    const start = Math.floor(Date.now() / minute) * minute - 10 * minute;
    const topic = 'wwtp/demo/aerobic/do';
    // the reading at +20 s is stored as bad (so not windowed), then comes again as good with another value
    for (let i = 0; i < 6; i += 1) await client.publishAsync(topic, JSON.stringify({ value: 2, ts: start + i * 10_000, quality: i === 2 ? 'bad' : 'good' }), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ value: 8, ts: start + 20_000 }), { qos: 1 });
    // and an exact resend of a windowed one
    await client.publishAsync(topic, JSON.stringify({ value: 2, ts: start + 30_000 }), { qos: 1 });
    // the next window's first reading closes this one
    await client.publishAsync(topic, JSON.stringify({ value: 2, ts: start + minute + 10_000 }), { qos: 1 });
    await until(() => letters.length >= 1);
    const windowRow = (): { features: string } | undefined => {
      const raw = new Database(db, { readonly: true });
      try {
        return raw.prepare("SELECT features FROM windows WHERE stage = 'aerobic' AND window_end = ?").get(start + minute) as { features: string } | undefined;
      } finally {
        raw.close();
      }
    };
    await until(() => windowRow() !== undefined);
    daemon.child.kill('SIGTERM');
    await daemon.exited();
    expect(letters.map((l) => l.reason)).toEqual(['conflicting_duplicate']);
    const features = JSON.parse(windowRow()?.features ?? '{}') as Record<string, { mean: number; max: number; count: number }>;
    expect(features['do']).toMatchObject({ mean: 2, max: 2, count: 5 });
  }, 60_000);
});
