import mqtt from 'mqtt';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon, tempDir, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';

/** Guarantee 6: SIGTERM stops intake, flushes, commits, publishes offline and exits within 5 s. */
describe('SIGTERM', () => {
  it('drains, publishes offline and exits 0 within 5 s', async () => {
    const dir = tempDir('wwtp-sigterm-');
    const dbPath = join(dir, 'edge.sqlite');
    const site = `term${process.pid}${Date.now() % 100000}`;
    const daemon = await startDaemon({
      WWTP_EDGE_SITE: site,
      WWTP_EDGE_STORAGE__PATH: dbPath,
      WWTP_EDGE_BROKER__MODE: 'external',
      WWTP_EDGE_BROKER__EXTERNAL__URL: 'mqtt://127.0.0.1:1883',
      WWTP_EDGE_BROKER__EXTERNAL__CLIENT_ID: `wwtp-edge-${site}`,
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_LOG__LEVEL: 'info',
    });
    const watcher = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `watch-${site}` });
    const statuses: string[] = [];
    watcher.on('message', (_topic, payload) => statuses.push(payload.toString()));
    await watcher.subscribeAsync(`wwtp/${site}/edge/status`, { qos: 1 });
    const plc = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `plc-${site}` });
    const now = Date.now();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 2, ts: now - 600_000 + i * 1000 }), { qos: 1 })),
    );
    await new Promise((r) => setTimeout(r, 500));
    daemon.child.kill('SIGTERM');
    // exit code 0 means the drain finished before the entry's 4.5 s deadline (which exits 1)
    const exit = await daemon.exited();
    await new Promise((r) => setTimeout(r, 300));
    await watcher.endAsync();
    await plc.endAsync();
    expect(exit.code).toBe(0);
    // retained: a late subscriber sees the latest health summary, which says online
    const first = statuses[0] ?? '';
    expect(first === 'online' || (JSON.parse(first) as { status: string }).status === 'online').toBe(true);
    expect(statuses.at(-1)).toBe('offline');
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) FROM readings').pluck().get()).toBe(500);
    // windows that were open at SIGTERM were flushed and stored
    expect(db.prepare("SELECT COUNT(*) FROM windows WHERE stage = 'aerobic'").pluck().get()).toBeGreaterThan(0);
    db.close();
  }, 60_000);
});

/** Guarantee 6 with the embedded broker: its own clients see `offline` before their connection ends. */
describe('SIGTERM (embedded broker)', () => {
  it('publishes offline (retained) to connected HMIs before closing their connections', async () => {
    const dir = tempDir('wwtp-sigterm-embedded-');
    const dbPath = join(dir, 'edge.sqlite');
    const site = `termemb${process.pid}`;
    const daemon = await startDaemon({
      WWTP_EDGE_SITE: site,
      WWTP_EDGE_STORAGE__PATH: dbPath,
      ...LOCAL_DAEMON_ENV,
    });
    const url = `mqtt://127.0.0.1:${daemon.mqttPort}`;
    const hmis = await Promise.all([0, 1, 2].map((i) => mqtt.connectAsync(url, { clientId: `hmi-${i}-${site}`, reconnectPeriod: 0 })));
    const seen = hmis.map((hmi) => {
      const got: { payload: string; connected: boolean }[] = [];
      hmi.on('message', (_topic, payload) => got.push({ payload: payload.toString(), connected: hmi.connected }));
      hmi.on('error', () => undefined);
      return got;
    });
    await Promise.all(hmis.map((hmi, i) => hmi.subscribeAsync(i === 2 ? `wwtp/${site}/#` : `wwtp/${site}/edge/status`, { qos: 1 })));
    const plc = await mqtt.connectAsync(url, { clientId: `plc-${site}`, reconnectPeriod: 0 });
    plc.on('error', () => undefined);
    const now = Date.now();
    await Promise.all(Array.from({ length: 200 }, (_, i) => plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 2, ts: now - 300_000 + i * 1000 }), { qos: 1 })));
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited();
    await Promise.all(hmis.map((hmi) => hmi.endAsync(true)));
    plc.end(true);
    expect(exit.code).toBe(0);
    for (const got of seen) {
      const statuses = got.filter((m) => m.payload === 'offline' || m.payload === 'online' || m.payload.startsWith('{"status"'));
      expect(statuses.at(-1)).toEqual({ payload: 'offline', connected: true });
    }
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) FROM readings').pluck().get()).toBe(200);
    db.close();
  }, 60_000);
});
