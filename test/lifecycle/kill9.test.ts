import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon, tempDir, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';
import { streamUntilKilled, type StreamMessage } from '../helpers/stream.js';

/**
 * Guarantee 1: a QoS 1 reading the daemon acknowledged is in SQLite even if the process is killed
 * right after. A client streams QoS 1 readings; the daemon is killed with SIGKILL mid-stream; the file
 * is reopened and every acknowledged reading must be there.
 */
const REPETITIONS = 10;
const stamp = Date.UTC(2026, 0, 1);

/** The nth reading of the stream: dissolved oxygen one millisecond apart, acknowledged by its ts. */
const reading = (n: number): StreamMessage<number> => ({ topic: 'wwtp/demo/aerobic/do', payload: JSON.stringify({ value: 2 + ((n + 1) % 10) / 10, ts: stamp + n }), key: stamp + n });

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
      await streamUntilKilled(daemon.mqttPort, `kill9-${Math.random()}`, reading, acked, before + 500 + rep * 97, () => daemon.child.kill('SIGKILL'));
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
