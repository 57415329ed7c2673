import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, tempDir, type DaemonProcess, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';
import { connackCode, connectPacket, publishHeader, rawClient } from './raw.js';
import { until } from './helpers.js';

/** The daemon as a child process, its embedded broker driven by MQTT.js and by raw sockets. */
let daemon: DaemonProcess | undefined;
afterEach(async () => {
  daemon?.child.kill('SIGKILL');
  await daemon?.exited();
  daemon = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ daemon: DaemonProcess; dbPath: string; site: string }> {
  const dir = tempDir('wwtp-broker-limits-');
  const dbPath = join(dir, 'edge.sqlite');
  const site = `lim${process.pid}${Date.now() % 100000}`;
  daemon = await startDaemon({
    WWTP_EDGE_SITE: site,
    WWTP_EDGE_STORAGE__PATH: dbPath,
    ...LOCAL_DAEMON_ENV,
    WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
    ...env,
  });
  return { daemon, dbPath, site };
}

async function metric(d: DaemonProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${d.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const rssBytes = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

describe('embedded broker limits, from outside the daemon', () => {
  it('slows a 20,000-message burst from one client to its publish rate and stores every acknowledged message', async () => {
    const { daemon: d, dbPath, site } = await start({ WWTP_EDGE_BROKER__EMBEDDED__LIMITS__MAX_PUBLISHES_PER_SECOND: '5000' });
    const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${d.mqttPort}`, { clientId: `burst-${site}`, reconnectPeriod: 0 });
    const stamp = Date.UTC(2026, 0, 1);
    const n = 20_000;
    let acked = 0;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 2 + (i % 10) / 10, ts: stamp + i }), { qos: 1 }).then(() => (acked += 1)),
      ),
    );
    await plc.endAsync();
    expect(acked).toBe(n);
    expect(await metric(d, 'wwtp_edge_broker_limit_hits_total', 'limit="publish_rate"')).toBeGreaterThan(0);
    expect(await metric(d, 'wwtp_edge_dead_letters_total', 'reason="rate_limited"')).toBe(0);
    d.child.kill('SIGTERM');
    expect((await d.exited()).code).toBe(0);
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare("SELECT COUNT(*) FROM readings WHERE stage = 'aerobic' AND signal = 'do'").pluck().get()).toBe(n);
    expect(db.prepare('SELECT COUNT(*) FROM deadletters').pluck().get()).toBe(0);
    db.close();
  }, 120_000);

  it('refuses a 250 MB PUBLISH from its header: the connection closes before the body is read, memory stays flat', async () => {
    const { daemon: d, site } = await start();
    const raw = await rawClient(d.mqttPort);
    await raw.write(connectPacket({ clientId: `big-${site}` }));
    await until(() => connackCode(raw.received()) === 0, 'CONNACK');
    const before = rssBytes(d.child.pid!);
    const declared = 250 * 1024 * 1024;
    await raw.write(publishHeader(`wwtp/${site}/aerobic/do`, declared));
    const chunk = Buffer.alloc(1024 * 1024, 0x31);
    let written = 0;
    while (!raw.socket.destroyed && written < declared) {
      await raw.write(chunk);
      written += chunk.length;
    }
    await raw.closed;
    expect(written).toBeLessThan(declared);
    expect(rssBytes(d.child.pid!) - before).toBeLessThan(64 * 1024 * 1024);
    expect(await metric(d, 'wwtp_edge_broker_connections_refused_total', 'reason="packet_too_large"')).toBe(1);
    await until(() => d.logs.some((l) => l.includes('connection refused') && l.includes('packet_too_large')), 'log line');
  }, 60_000);
});
