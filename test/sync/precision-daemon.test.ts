import { join } from 'node:path';
import Database from 'better-sqlite3';
import mariadb from 'mariadb';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/schema.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { killAtCleanup, LOCAL_DAEMON_ENV, startDaemon, tempDir } from '../helpers/daemon.js';
import { dropPrefix, MARIADB_URL, mariadbReachable, requireMariadb, uniquePrefix } from './helpers.js';

/**
 * Issue 11 item 8 from the outside: readings at ts X, X.25, X.5, X.75 and X+1 gave five SQLite rows and
 * two MariaDB rows (BIGINT ts), one with the wrong value, while nothing was pending. Event time is whole
 * milliseconds from ingest to the central table: SQLite and MariaDB hold the same keys and values, and
 * the fractional repeats are conflicting duplicates in the dead letters. A store written before that is
 * migrated the same way on start.
 */
const up = requireMariadb || (await mariadbReachable());
const prefix = uniquePrefix('precision');
const cleanups = cleanupsAfterEach();
afterAll(() => (up ? dropPrefix(prefix) : undefined));

const X = Date.UTC(2026, 0, 7, 6, 0, 0);

/** A store as the daemon wrote it at schema version 1, with fractional event times. */
function legacyStore(path: string): void {
  const v1 = new Database(path);
  v1.pragma('journal_mode = WAL');
  v1.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const sql of MIGRATIONS[0]?.statements ?? []) v1.exec(sql);
  v1.prepare('INSERT INTO schema_version VALUES (1, 0)').run();
  const insert = v1.prepare("INSERT INTO readings (stage, signal, ts, value, quality, received_at) VALUES ('membrane', 'tmp', ?, ?, 'good', 0)");
  for (const [ts, value] of [[X, 1], [X + 0.25, 2], [X + 0.5, 3], [X + 0.75, 4], [X + 1, 5]] as const) insert.run(ts, value);
  v1.close();
}

describe.skipIf(!up)('one precision of event time from ingest to MariaDB, daemon as a child process', () => {
  it('fractional milliseconds: the same keys and values at both ends, the repeats dead-lettered; a version-1 store migrated', async () => {
    const db = join(tempDir('wwtp-precision-'), 'edge.sqlite');
    legacyStore(db);
    const daemon = await startDaemon({
      WWTP_EDGE_STORAGE__PATH: db,
      ...LOCAL_DAEMON_ENV,
      WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
      WWTP_EDGE_SYNC__ENABLED: 'true',
      WWTP_EDGE_SYNC__MARIADB__URL: MARIADB_URL,
      WWTP_EDGE_SYNC__MARIADB__TABLE_PREFIX: prefix,
      WWTP_EDGE_SYNC__INTERVAL_MS: '200',
    });
    cleanups.push(killAtCleanup(daemon));
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { reconnectPeriod: 0, clientId: `precision-${process.pid}` });
    cleanups.push(() => client.endAsync(true));
    for (const [ts, value] of [[X, 10], [X + 0.25, 20], [X + 0.5, 30], [X + 0.75, 40], [X + 1, 50]] as const) {
      await client.publishAsync('wwtp/demo/membrane/flux', JSON.stringify({ value, ts }), { qos: 1 });
    }
    const central = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', bigIntAsNumber: true });
    cleanups.push(() => central.end());
    const table = `\`${prefix}readings\``;
    const centralRows = async (): Promise<{ signal: string; ts: number; value: number }[]> => {
      try {
        return (await central.query(`SELECT \`signal\`, ts, value FROM ${table} WHERE site = 'demo' ORDER BY \`signal\`, ts`)) as { signal: string; ts: number; value: number }[];
      } catch {
        return [];
      }
    };
    const deadline = Date.now() + 20_000;
    while ((await centralRows()).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    daemon.child.kill('SIGTERM');
    await daemon.exited();

    const expected = [
      { signal: 'flux', ts: X, value: 10 },
      { signal: 'flux', ts: X + 1, value: 50 },
      { signal: 'tmp', ts: X, value: 1 },
      { signal: 'tmp', ts: X + 1, value: 5 },
    ];
    expect(await centralRows()).toEqual(expected);
    const raw = new Database(db, { readonly: true });
    const local = raw.prepare("SELECT signal, ts, value FROM readings WHERE stage = 'membrane' ORDER BY signal, ts").all();
    const dead = raw.prepare("SELECT topic, payload FROM deadletters WHERE reason = 'conflicting_duplicate' ORDER BY seq").all() as { topic: string; payload: string }[];
    const pending = raw.prepare("SELECT count(*) FROM readings WHERE seq > COALESCE((SELECT seq FROM sync_cursors WHERE target = 'central' AND tbl = 'readings'), 0)").pluck().get();
    raw.close();
    expect(local).toEqual(expected);
    expect(pending).toBe(0);
    expect(dead.map((d) => [d.topic, (JSON.parse(d.payload) as { value: number }).value])).toEqual([
      ['wwtp/demo/membrane/tmp', 2],
      ['wwtp/demo/membrane/tmp', 3],
      ['wwtp/demo/membrane/tmp', 4],
      ['wwtp/demo/membrane/flux', 20],
      ['wwtp/demo/membrane/flux', 30],
      ['wwtp/demo/membrane/flux', 40],
    ]);
  }, 60_000);
});
