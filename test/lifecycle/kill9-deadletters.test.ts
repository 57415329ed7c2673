import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon, tempDir, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';
import { streamUntilKilled, type StreamMessage } from '../helpers/stream.js';

/**
 * Guarantee 1 for what a PLC sent wrong: a bad QoS 1 message the daemon acknowledged is in the
 * `deadletters` table even if the process is killed right after. A client streams bad QoS 1 messages
 * of three kinds (an unknown signal, an unparseable payload, a topic too deep, which the broker itself
 * refuses), each payload unique; the daemon is killed with SIGKILL mid-stream; every acknowledged
 * payload must be in the file.
 */
const REPETITIONS = 5;

/** The nth bad message of round `rep`, acknowledged by its payload (each one unique). */
function bad(rep: number, n: number): StreamMessage<string> {
  const tag = `r${rep}-m${n}`;
  const [topic, payload] =
    n % 3 === 0 ? ['wwtp/demo/aerobic/no_such_signal', `{"value":1,"tag":"${tag}"}`] : n % 3 === 1 ? ['wwtp/demo/aerobic/do', `not a number ${tag}`] : [`wwtp/demo/aerobic/do/${'x/'.repeat(20)}deep`, tag];
  return { topic, payload, key: payload };
}

describe('kill -9 loses no acknowledged dead letter (embedded broker, QoS 1)', () => {
  it(`holds over ${REPETITIONS} kills`, async () => {
    const dir = tempDir('wwtp-kill9-dl-');
    const dbPath = join(dir, 'edge.sqlite');
    const acked = new Set<string>();
    for (let rep = 0; rep < REPETITIONS; rep += 1) {
      const daemon = await startDaemon({
        WWTP_EDGE_STORAGE__PATH: dbPath,
        ...LOCAL_DAEMON_ENV,
        WWTP_EDGE_LOG__LEVEL: 'info',
      });
      const before = acked.size;
      await streamUntilKilled(daemon.mqttPort, `kill9-dl-${Math.random()}`, (n) => bad(rep, n), acked, before + 1_000 + rep * 97, () => daemon.child.kill('SIGKILL'));
      const exit = await daemon.exited();
      expect(exit.signal).toBe('SIGKILL');
    }
    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare('SELECT reason, payload FROM deadletters').all() as { reason: string; payload: string }[];
    db.close();
    const stored = new Set(rows.map((r) => r.payload));
    const lost = [...acked].filter((payload) => !stored.has(payload));
    expect(acked.size).toBeGreaterThan(REPETITIONS * 1_000);
    expect(new Set(rows.map((r) => r.reason))).toEqual(new Set(['unknown_signal', 'unparseable', 'topic_too_deep']));
    expect(lost).toEqual([]);
  }, 180_000);
});
