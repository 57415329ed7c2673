import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { hashPassword } from '../../src/broker/index.js';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createStore } from '../../src/store/index.js';
import { killAtCleanup, LOCAL_DAEMON_ENV, startDaemon, tempDir } from '../helpers/daemon.js';

/**
 * The HMI's trend of a signal read every second, as an operator asks the running daemon for it: a week
 * is 604,800 readings, and every one of them, the newest too, is in the buckets.
 */
describe('HMI trend of a one-second signal', () => {
  it('buckets a week of 1 s readings in the store: 360 buckets to the end of the span, each the SQL mean, min and max of its readings', async () => {
    const dir = tempDir('wwtp-trend-');
    const dbPath = join(dir, 'edge.sqlite');
    const configFile = join(dir, 'site.yaml');
    const users = [{ username: 'op1', passwordHash: await hashPassword('op-pass-1'), role: 'hmi' }];
    writeFileSync(configFile, JSON.stringify({ site: 'trendweek', storage: { path: dbPath, retentionDays: { readings: 100_000 } }, ingest: { maxAgeDays: 100_000 }, broker: { embedded: { users } } }));
    const config = loadConfig({ file: configFile, env: {} });
    const to = Date.parse('2026-06-08T00:00:00Z');
    const from = to - 7 * 86_400_000;
    const store = createStore(config.storage, { site: config.site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: false });
    await store.start(new AbortController().signal);
    for (let k = 0; k < 7 * 86_400; k += 7_200) {
      const batch = [];
      for (let i = k; i < k + 7_200; i += 1) {
        const ts = from + i * 1000;
        // the DO rises through the week: the last day's readings stand apart from the first's
        batch.push({ stage: 'aerobic' as const, signal: 'do', ts, value: 1 + i / 86_400 + 0.3 * Math.sin(i / 300), quality: 'good' as const, receivedAt: ts });
      }
      await store.appendReadings(batch);
    }
    await store.stop();

    const daemon = await startDaemon({ ...LOCAL_DAEMON_ENV }, ['run', '--config', configFile]);
    onTestFinished(killAtCleanup(daemon));
    const base = `http://127.0.0.1:${daemon.httpPort}`;
    const login = await fetch(`${base}/hmi/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'op1', password: 'op-pass-1' }) });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const reply = await fetch(`${base}/hmi/api/trend?stage=aerobic&signal=do&hours=168&to=${to}`, { headers: { cookie } });
    expect(reply.status).toBe(200);
    const trend = (await reply.json()) as { from: number; to: number; points: { ts: number; mean: number; min: number; max: number }[] };
    expect(trend).toMatchObject({ from, to });
    const width = (7 * 86_400_000) / 360;
    expect(trend.points).toHaveLength(360);
    expect(trend.points[359]?.ts).toBe(to - width / 2);
    const db = new Database(dbPath, { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    const sql = db.prepare("SELECT AVG(value) AS mean, MIN(value) AS min, MAX(value) AS max, COUNT(*) AS n FROM readings WHERE stage = 'aerobic' AND signal = 'do' AND ts >= ? AND ts < ?");
    for (const k of [0, 1, 179, 358, 359]) {
      const want = sql.get(from + k * width, from + (k + 1) * width) as { mean: number; min: number; max: number; n: number };
      expect(want.n).toBe(width / 1000);
      const point = trend.points[k];
      expect(point?.mean).toBeCloseTo(want.mean, 9);
      expect(point?.min).toBe(want.min);
      expect(point?.max).toBe(want.max);
    }
    // the newest bucket is the week's last 28 minutes: DO near 8 mg/L, not the first day's near 1
    expect(trend.points[359]?.mean).toBeGreaterThan(7.5);
  }, 120_000);
});
