import { describe, expect, it } from 'vitest';
import { historyRequest, matchHistoryPath } from '../../src/http/history.js';
import { createMemorySink } from '../../src/sync/memory-sink.js';
import { createSync } from '../../src/sync/sync.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, readingsFrom, tempDir } from './helpers.js';

const cleanups = cleanupsAfterEach();

describe('GET /api/v1/history/{table}', () => {
  it('pages with cursors, caps the limit, and serves the rows the push path sends', async () => {
    const tmp = tempDir();
    const store = openStore(`${tmp.dir}/h.sqlite`);
    await store.start(new AbortController().signal);
    cleanups.push(tmp.cleanup, () => store.stop());
    await store.appendReadings(readingsFrom(0, 25));
    const pulled: unknown[] = [];
    let since = '';
    for (;;) {
      const res = historyRequest(store, 'readings', new URLSearchParams({ since, limit: '100' }), 10);
      expect(res.status).toBe(200);
      if (!('rows' in res.body)) throw new Error('error body');
      expect(res.body.rows.length).toBeLessThanOrEqual(10);
      pulled.push(...res.body.rows);
      if (!res.body.more) break;
      since = res.body.next;
    }
    const sink = createMemorySink();
    const sync = createSync({ ...(await import('../sync/helpers.js')).syncConfig('') }, { site: 'test-site', store, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, sink });
    await sync.syncNow();
    await sync.stop();
    expect(pulled).toEqual(await sink.readBack('readings', 'test-site').then((rows) => [...rows].sort((a, b) => a.ts - b.ts)));
  });

  it('answers 400 with a one-line JSON error for a bad table, cursor or limit', async () => {
    const tmp = tempDir();
    const store = openStore(`${tmp.dir}/h.sqlite`);
    await store.start(new AbortController().signal);
    cleanups.push(tmp.cleanup, () => store.stop());
    for (const [table, q] of [
      ['nope', ''],
      ['readings', 'since=abc'],
      ['readings', 'limit=0'],
      ['readings', 'limit=-3'],
      ['readings', 'since=1e5'],
    ] as const) {
      const res = historyRequest(store, table, new URLSearchParams(q), 100);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(/^\{"error":"[^\n]+"\}$/);
    }
    expect(matchHistoryPath('/api/v1/history/alarm_events')).toBe('alarm_events');
    expect(matchHistoryPath('/api/v1/history/')).toBeUndefined();
  });
});
