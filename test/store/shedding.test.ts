import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CENTRAL_TARGET, type SheddingInfo } from '../../src/store/index.js';
import { sampleRows } from '../sync/sample-rows.js';
import { openStore, readingsFrom, tempDir } from './helpers.js';

describe('disk budget (small storage.maxBytes)', () => {
  it('sheds synced readings, then dead letters, then unsynced readings; never unsynced alarms, setpoints, anomalies', async () => {
    const tmp = tempDir();
    const path = `${tmp.dir}/full.sqlite`;
    const maxBytes = 2_000_000;
    const store = openStore(path, { maxBytes }, { syncEnabled: true });
    await store.start(new AbortController().signal);
    const events: SheddingInfo[] = [];
    store.onShedding((info) => events.push(info));
    // Recent event times, so the retention (400 days) leaves the rows alone and only the budget acts.
    const t0 = Date.now() - 86_400_000;
    try {
      for (let i = 0; i < 200; i++) {
        const s = sampleRows(i);
        store.insert('alarm_events', [s.alarm_events]);
        store.insert('setpoints', [s.setpoints]);
        store.insert('anomalies', [s.anomalies]);
        store.appendDeadLetter({ topic: `wwtp/x/${i}`, reason: 'unparseable', payload: 'x'.repeat(200), ts: t0 + i });
      }
      await store.appendReadings(readingsFrom(0, 8_000, t0));
      store.setCursor(CENTRAL_TARGET, 'readings', 2_000);
      for (let chunk = 0; chunk < 12; chunk++) {
        await store.appendReadings(readingsFrom(8_000 + chunk * 5_000, 5_000, t0));
        store.checkBudget();
      }
      expect(events.length).toBeGreaterThan(0);
      const first = events[0]?.shed.map((s) => `${s.table}:${s.synced}`) ?? [];
      expect(first.slice(0, 3)).toEqual(['readings:true', 'deadletters:false', 'readings:false']);
      expect(store.count('alarm_events')).toBe(200);
      expect(store.count('setpoints')).toBe(200);
      expect(store.count('anomalies')).toBe(200);
      expect(store.sizeBytes()).toBeLessThanOrEqual(maxBytes);
      // What is left of the readings is the newest.
      const newestShed = Math.max(...events.flatMap((e) => e.shed.filter((s) => s.table === 'readings').map((s) => s.toSeq)));
      expect(store.readAfter('readings', 0, 1).lastSeq).toBeGreaterThan(newestShed);
      await store.stop();
      const raw = new Database(path, { readonly: true });
      const log = raw.prepare("SELECT tbl, synced, SUM(rows) AS rows FROM shed_log WHERE reason = 'budget' GROUP BY tbl, synced ORDER BY MIN(seq)").all();
      raw.close();
      expect(log).toEqual([
        { tbl: 'readings', synced: 1, rows: 2_000 },
        { tbl: 'deadletters', synced: 0, rows: 200 },
        { tbl: 'readings', synced: 0, rows: expect.any(Number) as number },
      ]);
    } finally {
      await store.stop();
      tmp.cleanup();
    }
  });
});

describe('retention', () => {
  it('ages out old readings and dead letters, but keeps unsynced alarms when sync is on', async () => {
    const tmp = tempDir();
    const store = openStore(`${tmp.dir}/ret.sqlite`, { retentionDays: { readings: 10, deadletters: 1, derived: 10 } }, { syncEnabled: true });
    await store.start(new AbortController().signal);
    try {
      const now = Date.now();
      await store.appendReadings(readingsFrom(0, 500, now - 20 * 86_400_000));
      await store.appendReadings(readingsFrom(500, 100, now - 3_600_000));
      store.appendDeadLetter({ topic: 'a', reason: 'unparseable', payload: 'x', ts: now - 2 * 86_400_000 });
      store.insert('alarm_events', [{ ...sampleRows(1).alarm_events, ts: now - 30 * 86_400_000 }]);
      store.flush();
      store.checkBudget();
      expect(store.count('readings')).toBe(100);
      expect(store.count('deadletters')).toBe(0);
      expect(store.count('alarm_events')).toBe(1);
    } finally {
      await store.stop();
      tmp.cleanup();
    }
  });
});
