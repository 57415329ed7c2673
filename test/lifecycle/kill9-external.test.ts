import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMosquitto } from '../blackbox/harness.js';
import { startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';

/**
 * Guarantee 1 with the plant's own broker: a Mosquitto started for this test and configured as the
 * README tells integrators (unlimited queue for persistent sessions; the machine's Mosquitto keeps the
 * default 1,000-message limit and drops for a client that is away). The daemon holds a persistent session
 * and acks its subscription only after commit, so readings in flight when it is killed are redelivered
 * after the restart. Every reading the PLC published must end up in SQLite.
 */
const REPETITIONS = 10;
const PER_ROUND = 400;

function countStored(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT COUNT(DISTINCT ts) FROM readings').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('kill -9 loses no acknowledged reading (external Mosquitto)', () => {
  it(`holds over ${REPETITIONS} kills`, async () => {
    const dir = tempDir('wwtp-kill9x-');
    const dbPath = join(dir, 'edge.sqlite');
    const mosquitto = await startMosquitto(dir);
    const site = `k9x${process.pid}${Date.now() % 100000}`;
    const env = {
      WWTP_EDGE_SITE: site,
      WWTP_EDGE_STORAGE__PATH: dbPath,
      WWTP_EDGE_BROKER__MODE: 'external',
      WWTP_EDGE_BROKER__EXTERNAL__URL: mosquitto.url,
      WWTP_EDGE_BROKER__EXTERNAL__CLIENT_ID: `wwtp-edge-${site}`,
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_MODELS__ENABLED: 'false',
      WWTP_EDGE_LOG__LEVEL: 'info',
    };
    const plc = await mqtt.connectAsync(mosquitto.url, { clientId: `plc-${site}`, reconnectPeriod: 500 });
    const stamp = Date.now() - 3_600_000;
    let published = 0;
    let daemon: DaemonProcess | undefined;
    try {
      for (let rep = 0; rep < REPETITIONS; rep += 1) {
        daemon = await startDaemon(env);
        const running = daemon;
        const sends: Promise<unknown>[] = [];
        for (let i = 0; i < PER_ROUND; i += 1) {
          const ts = stamp + published;
          published += 1;
          sends.push(plc.publishAsync(`wwtp/${site}/aerobic/nh4_n`, JSON.stringify({ value: 1 + (i % 7) / 10, ts }), { qos: 1 }));
          // kill in the middle of the stream, while readings are in flight to the daemon
          if (i === Math.floor(PER_ROUND / 2) + rep * 13) running.child.kill('SIGKILL');
        }
        await Promise.all(sends);
        await running.exited();
      }
      // a last start drains what the broker kept for the persistent session
      daemon = await startDaemon(env);
      const deadline = Date.now() + 60_000;
      while (countStored(dbPath) < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (countStored(dbPath) !== published) {
        const db = new Database(dbPath, { readonly: true });
        const have = new Set(db.prepare('SELECT ts FROM readings').pluck().all() as number[]);
        db.close();
        const missing = Array.from({ length: published }, (_, i) => i).filter((i) => !have.has(stamp + i));
        console.error(`missing ${missing.length} readings, first ${missing.slice(0, 5).join(',')}, last ${missing.slice(-5).join(',')}`);
      }
      expect(countStored(dbPath)).toBe(published);
      daemon.child.kill('SIGTERM');
      await daemon.exited();
    } finally {
      if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
      await plc.endAsync();
      mosquitto.stop();
    }
  }, 240_000);
});
