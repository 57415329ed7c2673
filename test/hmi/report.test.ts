import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ReadingRow } from '../../src/contract/rows.js';
import type { DailyReport } from '../../src/report/index.js';
import { defaultDataDir, simulate } from '../../src/sim/index.js';
import { createStore } from '../../src/store/index.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { systemClock } from '../../src/lib/clock.js';
import { binPath, killAtCleanup, LOCAL_DAEMON_ENV, repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';
import { BSM1_WEATHER, needData } from '../helpers/data.js';

const bsm1 = needData('BSM1 weather files', ...BSM1_WEATHER);
const mines = needData('the Mines MBR record', 'wwtp-real/mines_mbr_2010.csv');

/**
 * `wwtp-edge report` as a third party runs it, on a day of the demo twin and on a day of a real plant's
 * historian export loaded with `wwtp-edge import`; every figure checked is recomputed here from the
 * SQLite file with SQL of its own.
 */
const run = promisify(execFile);

async function report(configFile: string, day: string, format: string): Promise<string> {
  const { stdout } = await run(process.execPath, [binPath, 'report', '--day', day, '--format', format, '--config', configFile], { cwd: repoRoot, maxBuffer: 64 << 20 });
  return stdout;
}

function sql<T>(dbPath: string, query: string, ...args: unknown[]): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(query).get(...args) as T;
  } finally {
    db.close();
  }
}

/** Flow-weighted mean of a concentration: the flow reading in effect at each sample (last at or before it). */
const FLOW_WEIGHTED = `
  WITH c AS (SELECT ts, value FROM readings WHERE stage = ? AND signal = ? AND ts >= ? AND ts < ?),
       q AS (SELECT c.value AS v, (SELECT f.value FROM readings f WHERE f.stage = ? AND f.signal = 'flow' AND f.ts <= c.ts ORDER BY f.ts DESC LIMIT 1) AS flow FROM c)
  SELECT SUM(v * flow) / SUM(flow) AS mean, AVG(v * flow) / 1000 AS load, COUNT(*) AS n FROM q`;

const HOURS_ABOVE = `
  WITH c AS (SELECT ts, value, LEAD(ts) OVER (ORDER BY ts) AS next FROM readings WHERE stage = ? AND signal = ? AND ts >= ? AND ts < ?)
  SELECT COALESCE(SUM(CASE WHEN value > ? THEN MIN(COALESCE(next, ?) - ts, ?, ? - ts) ELSE 0 END), 0) / 3600000.0 AS hours FROM c`;

/** A site of its own (temporary store, models off) for one test, with `over` merged into it. */
function reportSite(site: string, over: { storage?: Record<string, unknown>; [key: string]: unknown } = {}): { dbPath: string; configFile: string; config: ReturnType<typeof loadConfig> } {
  const dir = tempDir(`wwtp-report-${site}-`);
  const dbPath = join(dir, 'edge.sqlite');
  const configFile = join(dir, 'site.yaml');
  writeFileSync(configFile, JSON.stringify({ ...over, site, storage: { ...over.storage, path: dbPath }, models: { enabled: false } }));
  return { dbPath, configFile, config: loadConfig({ file: configFile, env: {} }) };
}

/** The readings written into the config's store as ingest writes them (received at their event time). */
async function storeReadings(config: ReturnType<typeof loadConfig>, readings: readonly ReadingRow[]): Promise<void> {
  const store = createStore(config.storage, { site: config.site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: false });
  await store.start(new AbortController().signal);
  await store.appendReadings(readings.map((r) => ({ ...r, receivedAt: r.ts })));
  await store.stop();
}

describe('wwtp-edge report', () => {
  it.skipIf(!bsm1.present)(`on a day of the demo twin: effluent means, hours above limits, loads, removal, alarms and completeness${bsm1.note}`, async () => {
    const { dbPath, configFile, config } = reportSite('reportdemo');
    const day = '2026-03-02';
    const from = Date.parse(`${day}T00:00:00Z`);
    const sim = simulate({ days: 1, epochMs: from, sampleMin: 5, stabilise: false, seed: 7, signals: config.signals, dataDir: defaultDataDir() });
    const readings: ReadingRow[] = [];
    for (const [key, values] of Object.entries(sim.series.readings)) {
      const [stage, signal] = key.split('/') as [ReadingRow['stage'], string];
      values.forEach((value, i) => {
        const ts = sim.series.ts[i];
        if (ts !== undefined && Number.isFinite(value) && ts < from + 86_400_000) readings.push({ stage, signal, ts, value, quality: 'good' });
      });
    }
    const store = createStore(config.storage, { site: config.site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: false });
    await store.start(new AbortController().signal);
    await store.appendReadings(readings.map((r) => ({ ...r, receivedAt: r.ts })));
    const alarm = (alarmId: string, ts: number, severity: 'high' | 'medium', state: 'active_unack' | 'cleared') =>
      ({ alarmId, ts, state, severity, stage: 'effluent' as const, signal: null, message: 'm', by: null });
    store.insert('alarm_events', [alarm('a', from + 1000, 'high', 'active_unack'), alarm('b', from + 2000, 'medium', 'active_unack'), alarm('a', from + 3000, 'high', 'cleared'), alarm('c', from - 1000, 'high', 'active_unack')]);
    await store.stop();

    const r = JSON.parse(await report(configFile, day, 'json')) as DailyReport;
    const to = from + 86_400_000;
    expect(r.flowSignal).toBe('effluent.flow');
    const effluentSignals = config.signals.filter((s) => s.stage === 'effluent' && s.id !== 'flow');
    expect(r.effluent.map((e) => e.signal).sort()).toEqual(effluentSignals.map((s) => s.id).filter((id) => readings.some((x) => x.stage === 'effluent' && x.signal === id)).sort());
    for (const e of r.effluent) {
      const want = sql<{ mean: number; n: number }>(dbPath, FLOW_WEIGHTED, 'effluent', e.signal, from, to, 'effluent');
      expect(e.samples).toBe(want.n);
      expect(e.mean).toBeCloseTo(want.mean, 9);
      expect(e.weighting).toBe('flow');
      const limit = config.alarms.effluentLimits[e.signal];
      if (limit === undefined) continue;
      const period = config.signals.find((s) => s.stage === 'effluent' && s.id === e.signal)?.periodSec ?? 60;
      const above = sql<{ hours: number }>(dbPath, HOURS_ABOVE, 'effluent', e.signal, from, to, limit, to, 2 * period * 1000, to);
      expect(e.hoursAboveLimit).toBeCloseTo(above.hours, 9);
    }
    expect(r.effluent.length).toBeGreaterThanOrEqual(5);
    // the twin's dry-weather day breaches its ammonium limit in the morning peak: hours above are counted
    expect(r.effluent.find((e) => e.signal === 'nh4_n')?.hoursAboveLimit).toBeGreaterThan(0);
    const cod = r.loads.find((l) => l.parameter === 'cod');
    const codIn = sql<{ load: number }>(dbPath, FLOW_WEIGHTED, 'influent', 'cod', from, to, 'influent');
    const codOut = sql<{ load: number }>(dbPath, FLOW_WEIGHTED, 'effluent', 'cod', from, to, 'effluent');
    expect(cod?.influentKgPerDay).toBeCloseTo(codIn.load, 6);
    expect(cod?.effluentKgPerDay).toBeCloseTo(codOut.load, 6);
    expect(cod?.removalPct).toBeCloseTo((1 - codOut.load / codIn.load) * 100, 6);
    expect(cod?.removalPct).toBeGreaterThan(50);
    const nh4 = r.removal.find((x) => x.parameter === 'nh4_n' && x.from === 'influent' && x.to === 'effluent');
    const means = (stage: string) => sql<{ m: number }>(dbPath, `SELECT AVG(value) AS m FROM readings WHERE stage = ? AND signal = 'nh4_n' AND ts >= ? AND ts < ?`, stage, from, to).m;
    expect(nh4?.removalPct).toBeCloseTo((1 - means('effluent') / means('influent')) * 100, 9);
    expect(r.alarms).toEqual({ critical: 0, high: 1, medium: 1, low: 0 });
    const flowCount = sql<{ n: number }>(dbPath, `SELECT COUNT(*) AS n FROM readings WHERE stage = 'effluent' AND signal = 'flow' AND ts >= ? AND ts < ?`, from, to).n;
    expect(r.completeness.find((c) => c.stage === 'effluent' && c.signal === 'flow')).toMatchObject({ readings: flowCount, expected: 86_400 / 60, share: flowCount / 1440 });

    const csv = await report(configFile, day, 'csv');
    const first = r.effluent[0];
    expect(csv.split('\n')[0]).toBe('section,item,unit,value,limit,hours_above_limit,samples,detail');
    expect(csv).toContain(`effluent,${first?.signal},${first?.unit},`);
    const html = await report(configFile, day, 'html');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).not.toContain('<script');
  }, 180_000);

  it.skipIf(!mines.present)(`on a day of a real plant imported from its historian export (Mines MBR, 1 min)${mines.note}`, async () => {
    const dir = tempDir('wwtp-report-mines-');
    const dbPath = join(dir, 'mines.sqlite');
    const lines = readFileSync(join(defaultDataDir(), 'wwtp-real', 'mines_mbr_2010.csv'), 'utf8').split('\n');
    // local time (America/Denver, UTC-6 in April): 2010-04-11 12:00 to 2010-04-13 00:00 covers the plant's day 2010-04-12
    const rows = lines.filter((l) => l >= '2010-04-11T12' && l < '2010-04-13T00');
    expect(rows.length).toBeGreaterThan(1400);
    const csvFile = join(dir, 'day.csv');
    writeFileSync(csvFile, `${lines[0]}\n${rows.join('\n')}\n`);
    const env = { ...process.env, WWTP_EDGE_STORAGE__PATH: dbPath };
    const siteFile = join(repoRoot, 'config', 'examples', 'mines-mbr.site.yaml');
    await run(process.execPath, [binPath, 'import', '--csv', csvFile, '--map', join(repoRoot, 'config', 'examples', 'mines-mbr.map.yaml'), '--config', siteFile], { cwd: repoRoot, env });
    const configFile = join(dir, 'site.yaml');
    writeFileSync(configFile, `${readFileSync(siteFile, 'utf8')}\n`.replace('path: data/mines.sqlite', `path: ${dbPath}`));
    const day = '2010-04-12';
    // the plant's day (timezone America/Denver, MDT): local midnight is 06:00 UTC
    const from = Date.parse(`${day}T06:00:00Z`);
    const to = from + 86_400_000;
    const r = JSON.parse(await report(configFile, day, 'json')) as DailyReport;
    expect(r).toMatchObject({ site: 'mines', timezone: 'America/Denver', from, to, hours: 24 });
    expect(r.flowSignal).toBe('influent.flow');
    // volume: time-weighted mean flow over the day, each reading held until the next (at most two periods)
    const volume = sql<{ v: number }>(
      dbPath,
      `WITH f AS (SELECT ts, value, LEAD(ts) OVER (ORDER BY ts) AS next FROM readings WHERE stage = 'influent' AND signal = 'flow' AND ts >= ? AND ts < ?)
       SELECT SUM(value * MIN(COALESCE(next, ?) - ts, 120000, ? - ts)) / SUM(MIN(COALESCE(next, ?) - ts, 120000, ? - ts)) AS v FROM f`,
      from, to, to, to, to, to,
    ).v;
    expect(r.volumeM3).toBeCloseTo(volume, 6);
    const config = loadConfig({ file: configFile, env: {} });
    for (const c of r.completeness) {
      const n = sql<{ n: number }>(dbPath, 'SELECT COUNT(*) AS n FROM readings WHERE stage = ? AND signal = ? AND ts >= ? AND ts < ?', c.stage, c.signal, from, to).n;
      const period = config.signals.find((s) => s.stage === c.stage && s.id === c.signal)?.periodSec ?? NaN;
      expect(c.readings).toBe(n);
      expect(c.share).toBeCloseTo(Math.min(1, n / (86_400 / period)), 12);
    }
    const tmp = r.completeness.find((c) => c.stage === 'membrane' && c.signal === 'tmp');
    expect(tmp?.readings).toBeGreaterThan(1000);
    expect(await report(configFile, day, 'csv')).toContain('completeness,membrane.tmp,%,');
  }, 180_000);

  it("takes the plant's calendar day in its timezone: local midnight to midnight, 23 and 25 hours when the clocks change", async () => {
    const { configFile, config } = reportSite('reportzone', { timezone: 'America/Chicago' });
    const period = config.signals.find((s) => s.stage === 'effluent' && s.id === 'flow')?.periodSec ?? NaN;
    // Chicago: CST (UTC-6) until 2026-03-08 02:00, CDT (UTC-5) until 2026-11-01 02:00
    const days = [
      { day: '2026-03-08', from: Date.parse('2026-03-08T06:00:00Z'), to: Date.parse('2026-03-09T05:00:00Z'), hours: 23 },
      { day: '2026-07-01', from: Date.parse('2026-07-01T05:00:00Z'), to: Date.parse('2026-07-02T05:00:00Z'), hours: 24 },
      { day: '2026-11-01', from: Date.parse('2026-11-01T05:00:00Z'), to: Date.parse('2026-11-02T06:00:00Z'), hours: 25 },
    ];
    const readings: ReadingRow[] = [];
    for (const d of days) {
      // an hour of the day before and after, at 100 mg/L: none of it may reach the day's figures; inside, 1 + the hour
      for (let ts = d.from - 3_600_000; ts < d.to + 3_600_000; ts += period * 1000) {
        const inside = ts >= d.from && ts < d.to;
        readings.push({ stage: 'effluent', signal: 'flow', ts, value: 24_000, quality: 'good' });
        readings.push({ stage: 'effluent', signal: 'nh4_n', ts, value: inside ? 1 + Math.floor((ts - d.from) / 3_600_000) : 100, quality: 'good' });
      }
    }
    await storeReadings(config, readings);

    for (const d of days) {
      const r = JSON.parse(await report(configFile, d.day, 'json')) as DailyReport;
      expect(r).toMatchObject({ day: d.day, timezone: 'America/Chicago', from: d.from, to: d.to, hours: d.hours });
      const n = readings.filter((x) => x.signal === 'flow' && x.ts >= d.from && x.ts < d.to).length;
      expect(n).toBe((d.hours * 3600) / period);
      const nh4 = r.effluent.find((e) => e.signal === 'nh4_n');
      expect(nh4).toMatchObject({ samples: n, min: 1, max: d.hours });
      expect(nh4?.hourly).toEqual(Array.from({ length: d.hours }, (_, h) => 1 + h));
      // the volume over the day's own length: 24,000 m3/d for 23 h is 23,000 m3
      expect(r.volumeM3).toBeCloseTo((24_000 * d.hours) / 24, 6);
      expect(r.completeness.find((c) => c.stage === 'effluent' && c.signal === 'flow')).toMatchObject({ readings: n, expected: (d.hours * 3600) / period, share: 1 });
      const csv = await report(configFile, d.day, 'csv');
      expect(csv).toContain(`report,day,,${d.day},,,,"America/Chicago, ${d.hours} h from ${new Date(d.from).toISOString()}"`);
    }
  }, 120_000);

  it('reads a day of 1 s readings page by page: the running daemon over HTTP (its report child) and the CLI give the same figures as SQL', async () => {
    const { dbPath, configFile, config } = reportSite('reportsecond', { storage: { retentionDays: { readings: 100_000 } }, ingest: { maxAgeDays: 100_000 } });
    const day = '2026-07-01';
    const from = Date.parse(`${day}T00:00:00Z`);
    const to = from + 86_400_000;
    const store = createStore(config.storage, { site: config.site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: false });
    await store.start(new AbortController().signal);
    // effluent flow and ammonium every second (86,400 readings each, several pages), ammonium above its
    // limit for a stretch of the afternoon, and a gap of an hour in the flow
    for (let k = 0; k < 86_400; k += 3_600) {
      const batch = [];
      for (let i = k; i < k + 3_600; i += 1) {
        const ts = from + i * 1000;
        if (i < 36_000 || i >= 39_600) batch.push({ stage: 'effluent' as const, signal: 'flow', ts, value: 20_000 + 8_000 * Math.sin((2 * Math.PI * i) / 86_400), quality: 'good' as const, receivedAt: ts });
        batch.push({ stage: 'effluent' as const, signal: 'nh4_n', ts, value: i >= 50_000 && i < 57_200 ? 6 : 1 + (i % 97) / 97, quality: 'good' as const, receivedAt: ts });
      }
      await store.appendReadings(batch);
    }
    await store.stop();

    const daemon = await startDaemon({ ...LOCAL_DAEMON_ENV }, ['run', '--config', configFile]);
    onTestFinished(killAtCleanup(daemon));
    const reply = await fetch(`http://127.0.0.1:${daemon.httpPort}/api/v1/report?day=${day}`);
    expect(reply.status).toBe(200);
    const served = (await reply.json()) as DailyReport;
    const cli = JSON.parse(await report(configFile, day, 'json')) as DailyReport;
    expect(served).toEqual(cli);

    const nh4 = cli.effluent.find((e) => e.signal === 'nh4_n');
    const want = sql<{ mean: number; n: number }>(dbPath, FLOW_WEIGHTED, 'effluent', 'nh4_n', from, to, 'effluent');
    expect(nh4?.samples).toBe(86_400);
    expect(want.n).toBe(86_400);
    expect(nh4?.mean).toBeCloseTo(want.mean, 9);
    const limit = config.alarms.effluentLimits['nh4_n'] ?? NaN;
    const period = config.signals.find((s) => s.stage === 'effluent' && s.id === 'nh4_n')?.periodSec ?? NaN;
    const above = sql<{ hours: number }>(dbPath, HOURS_ABOVE, 'effluent', 'nh4_n', from, to, limit, to, 2 * period * 1000, to);
    expect(above.hours).toBeCloseTo(2, 9);
    expect(nh4?.hoursAboveLimit).toBeCloseTo(above.hours, 9);
    expect(cli.completeness.find((c) => c.stage === 'effluent' && c.signal === 'flow')?.readings).toBe(86_400 - 3_600);
    expect(cli.loads.find((l) => l.parameter === 'nh4_n')?.effluentKgPerDay).toBeCloseTo(sql<{ load: number }>(dbPath, FLOW_WEIGHTED, 'effluent', 'nh4_n', from, to, 'effluent').load, 6);
    // two reports are computed at once; a third asked meanwhile is refused with 503, not queued
    const statuses = await Promise.all([0, 1, 2].map(async () => {
      const res = await fetch(`http://127.0.0.1:${daemon.httpPort}/api/v1/report?day=${day}&format=csv`);
      await res.text();
      return res.status;
    }));
    expect(statuses.sort()).toEqual([200, 200, 503]);
    // a bad day is refused with 400, and the daemon goes on serving
    expect((await fetch(`http://127.0.0.1:${daemon.httpPort}/api/v1/report?day=2026-13-01`)).status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${daemon.httpPort}/healthz`)).status).toBe(200);
  }, 180_000);

  it('leaves readings marked bad out of every figure, as the windows do, and counts them in completeness', async () => {
    const { configFile, config } = reportSite('reportbad');
    const day = '2026-05-04';
    const from = Date.parse(`${day}T00:00:00Z`);
    const readings: ReadingRow[] = [];
    for (let m = 0; m < 1440; m += 1) {
      const ts = from + m * 60_000;
      // 06:00-08:00 the flow meter is failed (the PLC marks it bad, reading 0) and the ammonium analyzer
      // is in calibration (bad, reading its 99 mg/L standard)
      const failed = m >= 360 && m < 480;
      readings.push({ stage: 'effluent', signal: 'flow', ts, value: failed ? 0 : 30_000, quality: failed ? 'bad' : 'good' });
      readings.push({ stage: 'effluent', signal: 'nh4_n', ts, value: failed ? 99 : 2, quality: failed ? 'bad' : m % 2 === 0 ? 'good' : 'uncertain' });
    }
    await storeReadings(config, readings);
    const r = JSON.parse(await report(configFile, day, 'json')) as DailyReport;
    const nh4 = r.effluent.find((e) => e.signal === 'nh4_n');
    // uncertain readings count, bad ones do not: the calibration standard is no effluent
    expect(nh4).toMatchObject({ samples: 1320, mean: 2, max: 2, hoursAboveLimit: 0 });
    expect(nh4?.hourly[6]).toBeNull();
    for (const signal of ['flow', 'nh4_n']) expect(r.completeness.find((c) => c.stage === 'effluent' && c.signal === signal)).toMatchObject({ readings: 1320, bad: 120, expected: 1440 });
    // the failed meter's zeros are no flow: 30,000 m3/d in effect over the hours it read (held at most two periods)
    expect(r.volumeM3).toBeCloseTo(30_000, 6);
    expect(await report(configFile, day, 'csv')).toContain('of 1440 expected; 120 marked bad, left out');
  }, 60_000);

  it('refuses a time zone it does not know with the key, exit code 2', async () => {
    const dir = tempDir('wwtp-report-badzone-');
    const configFile = join(dir, 'site.yaml');
    writeFileSync(configFile, 'site: badzone\ntimezone: America/Springfield\n');
    const failed = await run(process.execPath, [binPath, 'report', '--day', '2026-03-08', '--config', configFile], { cwd: repoRoot }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/timezone.*not an IANA time zone/);
  });

  it('refuses a bad day and a bad format with exit code 2', async () => {
    const failed = (args: string[]) => run(process.execPath, [binPath, 'report', ...args], { cwd: repoRoot }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    const bad = await failed(['--day', '2026-02-30']);
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toMatch(/--day must be a date YYYY-MM-DD/);
    expect((await failed(['--day', '2026-02-03', '--format', 'pdf']))?.code).toBe(2);
  });
});
