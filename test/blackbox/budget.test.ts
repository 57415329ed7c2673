import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alarmFloodEnv, PACED_SIGNALS, publishAtRate } from '../helpers/stream.js';
import { edgeEnv, record, sleep, startEdge, tempDir, uniqueSite, waitFor } from './harness.js';

/**
 * Guarantee 4 (disk budget) from the outside: the built daemon with a 6 MiB `storage.maxBytes`, sync
 * pointed at a closed port (nothing is ever synced, so every reading is unsynced), a flood of process
 * alarms going on, and QoS 1 readings at about 3,000/s until the data outgrow the budget. While the
 * data fit, no reading is shed, whatever the WAL does; the files on disk (database, WAL, shared
 * memory) never pass maxBytes plus its documented margin; once shedding starts, `storage.shedding` is raised within one budget
 * check despite the flood; every acknowledged reading is either in `readings` or counted in
 * `shed_log`.
 */
const MAX_BYTES = 6 * 1_048_576;
const BUDGET_CHECK_MS = 1_000;
const RATE = 3_000;
/** docs/storage.md: the files stay within maxBytes plus 10 % of it. */
const MARGIN = 0.1;
const SIGNALS = PACED_SIGNALS;

const size = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

describe('disk budget under an alarm flood (built daemon)', () => {
  it('sheds only once the data outgrow the budget, keeps the files within it, raises storage.shedding within one check', async () => {
    const dir = tempDir('wwtp-bb-budget-');
    const site = uniqueSite('b');
    const path = join(dir, 'edge.sqlite');
    const edge = await startEdge(
      edgeEnv(dir, site, {
        WWTP_EDGE_STORAGE__MAX_BYTES: String(MAX_BYTES),
        WWTP_EDGE_STORAGE__BUDGET_CHECK_MS: String(BUDGET_CHECK_MS),
        WWTP_EDGE_SYNC__ENABLED: 'true',
        WWTP_EDGE_SYNC__MARIADB__URL: 'mariadb://root@127.0.0.1:1/closed',
        ...alarmFloodEnv(SIGNALS),
      }),
    );
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${edge.mqttPort}`, { reconnectPeriod: 0, clientId: `bb-budget-${site}` });
    const alarms: { id: string; state: string; message: string; raisedAt: number }[] = [];
    client.on('message', (_topic, payload) => {
      if (payload.length > 0) alarms.push(JSON.parse(payload.toString()) as { id: string; state: string; message: string; raisedAt: number });
    });
    await client.subscribeAsync(`wwtp/${site}/alarms/#`, { qos: 1 });

    let maxFiles = 0;
    const sampler = setInterval(() => (maxFiles = Math.max(maxFiles, size(path) + size(`${path}-wal`) + size(`${path}-shm`))), 20);
    const started = Date.now();
    const shedding = (): boolean => edge.logs.some((l) => l.includes('"disk budget reached: shedding"'));
    // a few budget checks past the first shed, or a minute at most
    const run = await publishAtRate(
      client,
      site,
      SIGNALS,
      RATE,
      (s) => Date.now() - started > 60_000 || (shedding() && alarms.some((a) => a.id === 'storage.shedding') && s.sent > 0 && Date.now() - shedStart() > 4 * BUDGET_CHECK_MS),
    );
    function shedStart(): number {
      const line = edge.logs.find((l) => l.includes('"disk budget reached: shedding"'));
      return line ? Date.parse((JSON.parse(line) as { time: string }).time) : Infinity;
    }
    await waitFor('the last acks', () => run.acked >= run.sent || undefined, 20_000).catch(() => undefined);
    await sleep(2 * BUDGET_CHECK_MS);
    clearInterval(sampler);
    edge.child.kill('SIGTERM');
    await edge.exited();
    client.end(true);

    const db = new Database(path, { readonly: true });
    const stored = db.prepare('SELECT COUNT(*) FROM readings').pluck().get() as number;
    const sheds = db.prepare("SELECT ts, tbl, synced, rows FROM shed_log WHERE reason = 'budget' ORDER BY seq").all() as { ts: number; tbl: string; synced: number; rows: number }[];
    db.close();
    const shedReadings = sheds.filter((s) => s.tbl === 'readings').reduce((n, s) => n + s.rows, 0);
    const passes = edge.logs.filter((l) => l.includes('"disk budget reached: shedding"')).map((l) => JSON.parse(l) as { usedBytesBefore: number; dataBudgetBytes: number });
    const firstShed = sheds[0]?.ts ?? Infinity;
    const raised = alarms.find((a) => a.id === 'storage.shedding' && a.state === 'active_unack');
    const floodSuppressed = alarms.filter((a) => a.id !== 'storage.shedding').length;
    const { sent, acked } = run;
    record('budget', { maxBytes: MAX_BYTES, maxFiles, sent, acked, stored, shedReadings, lost: acked - stored - shedReadings, passes: passes.length, shedWhileFitting: passes.filter((p) => !(p.usedBytesBefore >= 0.9 * p.dataBudgetBytes)).length, alarmDelayMs: raised ? raised.raisedAt - firstShed : -1, processAlarms: floodSuppressed });

    expect(acked).toBe(sent);
    expect(passes.length).toBeGreaterThan(0);
    // no pass shed while the data (live pages) were under the high-water mark of their budget
    for (const p of passes) expect(p.usedBytesBefore).toBeGreaterThanOrEqual(0.9 * p.dataBudgetBytes);
    // what went is counted, oldest unsynced readings only (nothing was ever synced)
    expect(stored + shedReadings).toBe(acked);
    expect(sheds.every((s) => s.tbl === 'readings' || s.tbl === 'deadletters')).toBe(true);
    expect(maxFiles).toBeLessThanOrEqual(MAX_BYTES * (1 + MARGIN));
    expect(raised).toBeDefined();
    expect(raised!.raisedAt - firstShed).toBeLessThanOrEqual(BUDGET_CHECK_MS);
    // the message follows the shedding: it changed as more rows went
    expect(new Set(alarms.filter((a) => a.id === 'storage.shedding').map((a) => a.message)).size).toBeGreaterThan(1);
  }, 120_000);
});
