import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { AlarmEventRow, WindowRow } from '../../src/contract/rows.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, readingsFrom, tempDir } from './helpers.js';

const cleanups = cleanupsAfterEach();

async function started(over: Parameters<typeof openStore>[1] = {}, ctx: Parameters<typeof openStore>[2] = {}) {
  const tmp = tempDir();
  const path = `${tmp.dir}/edge.sqlite`;
  const store = openStore(path, over, ctx);
  await store.start(new AbortController().signal);
  cleanups.push(tmp.cleanup, () => store.stop());
  return { store, path, dir: tmp.dir };
}

const histCount = async (metrics: ReturnType<typeof createMetrics>, name: string) => {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const c = m?.values.find((v) => (v as { metricName?: string }).metricName === `${name}_count`);
  return Number(c?.value ?? 0);
};

describe('store group commit', () => {
  it('commits appends made in one tick together and resolves after the commit', async () => {
    const metrics = createMetrics(false);
    const { store } = await started({ groupCommitMs: 5 }, { metrics });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendReadings(readingsFrom(i * 100, 100))));
    expect(store.count('readings')).toBe(1000);
    expect(await histCount(metrics, 'wwtp_edge_commit_batch_rows')).toBe(1);
  });

  it('splits at maxBatchRows', async () => {
    const metrics = createMetrics(false);
    const { store } = await started({ groupCommitMs: 5, maxBatchRows: 100 }, { metrics });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendReadings(readingsFrom(i * 100, 100))));
    expect(store.count('readings')).toBe(1000);
    expect(await histCount(metrics, 'wwtp_edge_commit_batch_rows')).toBe(10);
  });

  it('refuses appends past maxPendingRows with a coded error and counts them', async () => {
    const metrics = createMetrics(false);
    const { store } = await started({ maxPendingRows: 50 }, { metrics });
    const first = store.appendReadings(readingsFrom(0, 40));
    await expect(store.appendReadings(readingsFrom(40, 20))).rejects.toMatchObject({ code: 'STORE_QUEUE_FULL' });
    await first;
    expect(store.count('readings')).toBe(40);
    const overflow = await metrics.queueOverflow.get();
    expect(overflow.values.find((v) => v.labels.queue === 'store')?.value).toBe(20);
  });

  it('ignores a re-sent reading or derived row (natural keys)', async () => {
    const { store } = await started();
    await store.appendReadings(readingsFrom(0, 50));
    await store.appendReadings(readingsFrom(25, 50));
    const alarm: AlarmEventRow = { alarmId: 'anomaly.aerobic', ts: 1, state: 'active_unack', severity: 'high', stage: 'aerobic', signal: null, message: 'm', by: null };
    const win: WindowRow = { stage: 'aerobic', windowStart: 0, windowEnd: 300_000, quality: 1, features: '{}' };
    store.insert('alarm_events', [alarm, alarm]);
    store.insert('windows', [win]);
    store.insert('windows', [{ ...win, quality: 0.5 }]);
    store.flush();
    expect(store.count('readings')).toBe(75);
    expect(store.count('alarm_events')).toBe(1);
    const page = store.history('windows', undefined, 10);
    expect(page.rows).toEqual([{ ...win, site: 'test-site' }]);
  });
});

describe('store cursors and state', () => {
  it('pages the history with stable cursors across deletes, new rows and a reopen', async () => {
    const { store, path } = await started();
    await store.appendReadings(readingsFrom(0, 250));
    const seen: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = store.history('readings', cursor, 100);
      if (page.rows.length === 0) break;
      seen.push(...page.rows.map((r) => r.ts));
      cursor = page.next;
    }
    expect(seen).toEqual(readingsFrom(0, 250).map((r) => r.ts));
    const end = cursor;
    // Deleting old rows (retention, shedding; never the newest, budget.ts) leaves later cursors valid and never reuses a seq.
    const raw = new Database(path);
    raw.prepare('DELETE FROM readings WHERE seq BETWEEN 150 AND 249').run();
    raw.close();
    await store.appendReadings(readingsFrom(1000, 10));
    expect(store.history('readings', end, 100).rows.map((r) => r.ts)).toEqual(readingsFrom(1000, 10).map((r) => r.ts));
    const mid = store.history('readings', '100', 5);
    expect(mid.rows[0]?.ts).toBe(readingsFrom(100, 1)[0]?.ts);
    store.setState('loop.do', { mode: 'manual', value: 2 });
    await store.stop();
    const again = openStore(path);
    await again.start(new AbortController().signal);
    cleanups.push(() => again.stop());
    expect(again.history('readings', end, 100).rows).toHaveLength(10);
    expect(again.getState('loop.do')).toEqual({ mode: 'manual', value: 2 });
    expect(() => again.history('readings', 'abc', 10)).toThrow(/bad cursor/);
  });

  it('stop drains what is pending, is idempotent and refuses later appends', async () => {
    const { store, path } = await started({ groupCommitMs: 10_000 });
    const pending = store.appendReadings(readingsFrom(0, 30));
    store.appendDeadLetter({ topic: 'wwtp/x/y', reason: 'unparseable', payload: 'zz', ts: 5 });
    await Promise.all([store.stop(), store.stop()]);
    await pending;
    await expect(store.appendReadings(readingsFrom(30, 1))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM readings').get()).toEqual({ n: 30 });
    expect(raw.prepare('SELECT COUNT(*) AS n FROM deadletters').get()).toEqual({ n: 1 });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it("answers a signal's count, mean, min and max over an event-time range", async () => {
    const { store } = await started();
    const rs = readingsFrom(0, 700);
    await store.appendReadings(rs);
    const t0 = rs[100]?.ts ?? 0;
    const want = rs.filter((r) => r.stage === 'influent' && r.signal === 's0' && r.ts >= t0 && r.ts < t0 + 400_000).map((r) => r.value);
    expect(want.length).toBeGreaterThan(3);
    const got = store.readingStats('influent', 's0', t0, t0 + 400_000);
    expect(got.n).toBe(want.length);
    expect(got.mean).toBeCloseTo(want.reduce((a, b) => a + b, 0) / want.length, 9);
    expect(got).toMatchObject({ min: Math.min(...want), max: Math.max(...want) });
    expect(store.readingStats('influent', 's0', t0, t0)).toEqual({ mean: null, min: null, max: null, n: 0 });
  });
});
