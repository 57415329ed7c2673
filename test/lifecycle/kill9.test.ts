import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon, tempDir, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';

/**
 * Guarantee 1: a QoS 1 reading the daemon acknowledged is in SQLite even if the process is killed
 * right after. A client streams QoS 1 readings; the daemon is killed with SIGKILL mid-stream; the file
 * is reopened and every acknowledged reading must be there.
 */
const REPETITIONS = 10;
const stamp = Date.UTC(2026, 0, 1);

async function streamUntilKilled(port: number, kill: () => void, acked: Set<number>, killAfter: number): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: `kill9-${Math.random()}` });
  client.on('error', () => undefined);
  let n = 0;
  let killed = false;
  await new Promise<void>((resolve) => {
    client.once('close', () => resolve());
    const pump = (): void => {
      // keep 200 in flight, like a PLC gateway with a deep queue
      while (!killed && n - acked.size < 200) {
        const ts = stamp + n;
        n += 1;
        client.publish('wwtp/demo/aerobic/do', JSON.stringify({ value: 2 + (n % 10) / 10, ts }), { qos: 1 }, (error) => {
          if (error) return;
          acked.add(ts);
          if (!killed && acked.size >= killAfter) {
            killed = true;
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

describe('kill -9 loses no acknowledged reading (embedded broker)', () => {
  it(`holds over ${REPETITIONS} kills`, async () => {
    const dir = tempDir('wwtp-kill9-');
    const dbPath = join(dir, 'edge.sqlite');
    const acked = new Set<number>();
    for (let rep = 0; rep < REPETITIONS; rep += 1) {
      const daemon = await startDaemon({
        WWTP_EDGE_STORAGE__PATH: dbPath,
        ...LOCAL_DAEMON_ENV,
        WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
        WWTP_EDGE_LOG__LEVEL: 'info',
      });
      const before = acked.size;
      await streamUntilKilled(daemon.mqttPort, () => daemon.child.kill('SIGKILL'), acked, before + 500 + rep * 97);
      const exit = await daemon.exited();
      expect(exit.signal).toBe('SIGKILL');
    }
    const db = new Database(dbPath, { readonly: true });
    const stored = new Set((db.prepare("SELECT ts FROM readings WHERE stage = 'aerobic' AND signal = 'do'").pluck().all() as number[]));
    db.close();
    const lost = [...acked].filter((ts) => !stored.has(ts));
    expect(acked.size).toBeGreaterThan(REPETITIONS * 500);
    expect(lost).toEqual([]);
  }, 180_000);
});
