import Database from 'better-sqlite3';
import mariadb from 'mariadb';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropPrefix, mariadbReachable, requireMariadb, uniquePrefix } from '../sync/helpers.js';
import { startProxy } from '../sync/proxy.js';
import { edgeEnv, record, SCALE, sleep, startEdge, tempDir, uniqueSite, waitFor, type Edge } from './harness.js';

/**
 * Guarantee 4 (sync) from the outside: the built daemon syncs to the machine's MariaDB through a TCP
 * proxy that the test cuts. Readings stream in at QoS 1 the whole time; the daemon is killed with
 * SIGKILL twice during the outage and once during the catch-up after it. Afterwards every
 * acknowledged reading is in MariaDB, and both ends hold the same rows: the same count and the same
 * value per key in every table the daemon syncs. Some readings carry fractional milliseconds, which
 * the daemon keeps at whole milliseconds at both ends.
 */
const up = requireMariadb || (await mariadbReachable());
const prefix = uniquePrefix('bbout');
afterAll(async () => {
  if (up) await dropPrefix(prefix);
});

const SIGNALS = ['aerobic/do', 'aerobic/nh4_n', 'anoxic/no3_n', 'effluent/flow'] as const;
const base = Date.now() - 2 * 86_400_000;

/** The natural key of each synced table (PRODUCT 4.4), as columns of both ends. */
const KEYS: Record<string, readonly string[]> = {
  readings: ['stage', 'signal', 'ts'],
  windows: ['stage', 'window_end'],
  indicators: ['stage', 'name', 'ts'],
  predictions: ['stage', 'signal', 'ts', 'horizon_min'],
  anomalies: ['stage', 'ts', 'model'],
  alarm_events: ['alarm_id', 'ts', 'state'],
  setpoints: ['loop', 'ts'],
  operator_actions: ['ts', 'action', 'target', 'by'],
};

async function central(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', bigIntAsNumber: true, decimalAsNumber: true });
  try {
    return (await c.query(sql, params)) as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

async function centralCount(site: string): Promise<number> {
  const rows = await central(`SELECT COUNT(*) AS n FROM \`${prefix}readings\` WHERE site = ?`, [site]).catch(() => [{ n: 0 }]);
  return Number(rows[0]?.['n'] ?? 0);
}

/** Rows of every synced table, both ends. */
async function centralTotal(site: string): Promise<number> {
  let n = 0;
  for (const table of Object.keys(KEYS)) {
    const rows = await central(`SELECT COUNT(*) AS n FROM \`${prefix}${table}\` WHERE site = ?`, [site]).catch(() => [{ n: 0 }]);
    n += Number(rows[0]?.['n'] ?? 0);
  }
  return n;
}

function localTotal(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Object.keys(KEYS).reduce((n, table) => n + (db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number), 0);
  } finally {
    db.close();
  }
}

function localCount(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM readings').pluck().get() as number;
  } finally {
    db.close();
  }
}

/** A PLC streaming QoS 1 readings (200 in flight) over four signals until stopped or disconnected. */
async function stream(edge: Edge, site: string, acked: Map<string, number>, next: { n: number }) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${edge.mqttPort}`, { reconnectPeriod: 0, clientId: `bb-out-${next.n}` });
  client.on('error', () => undefined);
  let stopped = false;
  let inFlight = 0;
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const pump = (): void => {
    while (!stopped && inFlight < 200) {
      const n = next.n++;
      const whole = base + Math.floor(n / SIGNALS.length) * 10;
      // a quarter of the readings carry a fraction of a millisecond: one precision from ingest to MariaDB
      const ts = whole + ((n >> 2) % 4) * 0.25;
      const key = `${SIGNALS[n % SIGNALS.length]}/${whole}`;
      const value = Math.round((1 + (n % 97) / 10) * 1000) / 1000;
      inFlight += 1;
      client.publish(`wwtp/${site}/${SIGNALS[n % SIGNALS.length]}`, JSON.stringify({ value, ts }), { qos: 1 }, (error) => {
        inFlight -= 1;
        if (!error) acked.set(key, value);
        pump();
      });
    }
  };
  pump();
  return {
    async stop() {
      stopped = true;
      await waitFor('in-flight acks', () => inFlight === 0 || undefined, 10_000).catch(() => undefined);
      client.end(true);
      await closed;
    },
    closed,
  };
}

describe.skipIf(!up)('MariaDB outage through a proxy, kill -9 during the outage and the catch-up (built daemon)', () => {
  it('ends with the same rows at both ends and every acknowledged reading in MariaDB', async () => {
    const dir = tempDir('wwtp-bb-outage-');
    const site = uniqueSite('o');
    const path = join(dir, 'edge.sqlite');
    const proxy = await startProxy(3306);
    const env = edgeEnv(dir, site, {
      WWTP_EDGE_SYNC__ENABLED: 'true',
      WWTP_EDGE_SYNC__MARIADB__URL: `mariadb://root@127.0.0.1:${proxy.port}/test`,
      WWTP_EDGE_SYNC__MARIADB__TABLE_PREFIX: prefix,
      WWTP_EDGE_SYNC__MARIADB__CONNECT_TIMEOUT_MS: '1000',
      WWTP_EDGE_SYNC__INTERVAL_MS: '200',
      WWTP_EDGE_SYNC__BACKOFF_MIN_MS: '100',
      WWTP_EDGE_SYNC__BACKOFF_MAX_MS: '500',
      WWTP_EDGE_SYNC__BATCH_ROWS: '1000',
    });
    const acked = new Map<string, number>();
    const next = { n: 0 };
    let kills = 0;
    const killed = async (edge: Edge): Promise<void> => {
      await edge.kill9();
      kills += 1;
    };
    try {
      // 1. sync running
      let edge = await startEdge(env);
      let plc = await stream(edge, site, acked, next);
      await waitFor('first rows in MariaDB', async () => ((await centralCount(site)) > 2_000 ? true : undefined), 30_000);
      // 2. outage: connections reset, then the port closed; two kills while it lasts
      await proxy.cut();
      for (let k = 0; k < 2 * SCALE; k++) {
        const start = acked.size;
        await waitFor('readings during the outage', () => (acked.size >= start + 5_000 ? true : undefined), 30_000);
        await killed(edge);
        await plc.closed;
        edge = await startEdge(env);
        plc = await stream(edge, site, acked, next);
      }
      await sleep(1_500);
      const beforeRestore = await centralCount(site);
      // 3. back: kill during the catch-up, while MariaDB holds part of the backlog
      await proxy.restore();
      const backlog = localCount(path);
      await waitFor('catch-up under way', async () => {
        const n = await centralCount(site);
        return n > beforeRestore && n < backlog ? true : undefined;
      }, 30_000, 20);
      await killed(edge);
      await plc.closed;
      edge = await startEdge(env);
      plc = await stream(edge, site, acked, next);
      await sleep(1_000);
      await plc.stop();
      await waitFor('caught up', async () => ((await centralCount(site)) >= localCount(path) ? true : undefined), 60_000, 250);
      await sleep(500);
      edge.child.kill('SIGTERM');
      expect((await edge.exited()).code).toBe(0);
      // What the shutdown flushed (the open windows, their setpoints) goes at the next start.
      edge = await startEdge(env);
      await waitFor('derived rows synced', async () => ((await centralTotal(site)) >= localTotal(path) ? true : undefined), 60_000, 250);
      edge.child.kill('SIGTERM');
      expect((await edge.exited()).code).toBe(0);
    } finally {
      await proxy.close();
    }

    // Compare both ends, table by table.
    const db = new Database(path, { readonly: true });
    const tables: Record<string, { local: number; central: number; differing: number }> = {};
    for (const [table, key] of Object.entries(KEYS)) {
      const exists = await central('SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [`${prefix}${table}`]);
      if (Number(exists[0]?.['n']) === 0) continue;
      const localRows = db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      const centralRows = await central(`SELECT * FROM \`${prefix}${table}\` WHERE site = ?`, [site]);
      const keyOf = (r: Record<string, unknown>): string => key.map((k) => String(r[k])).join('|');
      const centralByKey = new Map(centralRows.map((r) => [keyOf(r), r]));
      let differing = 0;
      for (const row of localRows) {
        const other = centralByKey.get(keyOf(row));
        if (!other) {
          differing += 1;
          continue;
        }
        for (const [column, value] of Object.entries(row)) {
          if (column === 'seq' || column === 'received_at' || !(column in other)) continue;
          const there = other[column];
          const same = typeof value === 'number' ? Number(there) === value : typeof there === 'object' && there !== null ? JSON.stringify(there) === String(value) || JSON.stringify(there) === JSON.stringify(JSON.parse(String(value))) : String(there) === String(value);
          if (!same) {
            differing += 1;
            break;
          }
        }
      }
      tables[table] = { local: localRows.length, central: centralRows.length, differing };
    }
    db.close();
    const centralReadings = new Map(
      (await central(`SELECT stage, \`signal\`, ts, value FROM \`${prefix}readings\` WHERE site = ?`, [site])).map((r) => [`${String(r['stage'])}/${String(r['signal'])}/${Number(r['ts'])}`, Number(r['value'])]),
    );
    const lost = [...acked].filter(([key, value]) => centralReadings.get(key) !== value).length;
    record('outage', { kills, acked: acked.size, lost, ...Object.fromEntries(Object.entries(tables).flatMap(([t, v]) => [[`${t}Local`, v.local], [`${t}Central`, v.central], [`${t}Differing`, v.differing]])) });
    expect(kills).toBe(2 * SCALE + 1);
    expect(lost).toBe(0);
    expect(tables['readings']?.local).toBeGreaterThan(10_000);
    for (const [table, t] of Object.entries(tables)) {
      expect({ table, central: t.central, differing: t.differing }).toEqual({ table, central: t.local, differing: 0 });
    }
  }, 240_000);
});
