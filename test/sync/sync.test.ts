import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { CENTRAL_TARGET } from '../../src/store/index.js';
import { backoffDelay } from '../../src/sync/backoff.js';
import { createMemorySink } from '../../src/sync/memory-sink.js';
import { createSync, type SyncLagEvent } from '../../src/sync/sync.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { openStore, readingsFrom, tempDir } from '../store/helpers.js';
import { centralDigest, localDigest, syncConfig } from './helpers.js';
import { sampleRows } from './sample-rows.js';

const cleanups = cleanupsAfterEach();

async function fixture(clock: Clock = systemClock) {
  const tmp = tempDir();
  const store = openStore(`${tmp.dir}/edge.sqlite`, {}, { syncEnabled: true, clock });
  await store.start(new AbortController().signal);
  cleanups.push(tmp.cleanup, () => store.stop());
  return store;
}

function fill(store: Awaited<ReturnType<typeof fixture>>, n: number) {
  for (let i = 0; i < n; i++) {
    const s = sampleRows(i);
    store.insert('alarm_events', [s.alarm_events]);
    store.insert('setpoints', [s.setpoints]);
    store.insert('windows', [s.windows]);
  }
}

describe('backoff', () => {
  it('doubles from min, caps at max, jitters within [0.5, 1)', () => {
    expect(backoffDelay(1, 100, 1000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(200);
    expect(backoffDelay(20, 100, 1000, () => 0.999999)).toBe(1000);
    expect(backoffDelay(20, 100, 1000, () => 0)).toBe(500);
  });
});

describe('sync with the in-memory sink', () => {
  it('catches up every table, reports progress and leaves equal content', async () => {
    const store = await fixture();
    await store.appendReadings(readingsFrom(0, 1234));
    fill(store, 40);
    store.flush();
    const sink = createMemorySink();
    const sync = createSync(syncConfig('', { batchRows: 100 }), { site: 'test-site', store, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, sink });
    const progress: [number, number][] = [];
    await sync.syncNow((done, total) => progress.push([done, total]));
    expect(progress[0]).toEqual([0, 1234 + 120]);
    expect(progress[progress.length - 1]).toEqual([1354, 1354]);
    expect(await centralDigest(sink, 'test-site')).toEqual(await localDigest(store));
    const status = sync.status();
    expect(status.tables.readings).toMatchObject({ pending: 0, lagSec: 0, cursor: store.maxSeq('readings') });
    await sync.stop();
  });

  it('keeps the cursor while the sink is down and resumes from it', async () => {
    const store = await fixture();
    await store.appendReadings(readingsFrom(0, 300));
    const sink = createMemorySink();
    sink.reachable = false;
    const sync = createSync(syncConfig('', { batchRows: 50 }), { site: 'test-site', store, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, sink });
    await expect(sync.syncNow()).rejects.toMatchObject({ code: 'SYNC_UNREACHABLE' });
    expect(store.getCursor(CENTRAL_TARGET, 'readings').seq).toBe(0);
    await sync.start(new AbortController().signal);
    sink.reachable = true;
    // The background loop retries with backoff; wait until it caught up.
    for (let i = 0; i < 200 && store.getCursor(CENTRAL_TARGET, 'readings').seq < store.maxSeq('readings'); i++) await new Promise((r) => setTimeout(r, 20));
    await sync.stop();
    expect(await centralDigest(sink, 'test-site', ['readings'])).toEqual(await localDigest(store, ['readings']));
  });

  it('raises and clears the lag alarm', async () => {
    let offset = 0;
    const clock: Clock = { ...systemClock, now: () => Date.now() + offset };
    const store = await fixture(clock);
    const sink = createMemorySink();
    const events: SyncLagEvent[] = [];
    const sync = createSync(syncConfig('', { lagAlarmSec: 60 }), { site: 'test-site', store, logger: silentLogger(), metrics: createMetrics(false), clock, sink, onLagAlarm: (e) => events.push(e) });
    await sync.syncNow();
    await store.appendReadings(readingsFrom(0, 10));
    sink.reachable = false;
    offset = 120_000;
    await expect(sync.syncNow()).rejects.toThrow();
    await sync.start(new AbortController().signal);
    for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events[0]).toMatchObject({ table: 'readings', raised: true });
    sink.reachable = true;
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await sync.stop();
    expect(events[1]).toMatchObject({ table: 'readings', raised: false });
  });

  it('in aggregates mode sends windows, not raw readings, and marks readings forwarded', async () => {
    const store = await fixture();
    await store.appendReadings(readingsFrom(0, 100));
    fill(store, 5);
    store.flush();
    const sink = createMemorySink();
    const sync = createSync(syncConfig('', { readings: 'aggregates' }), { site: 'test-site', store, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, sink });
    await sync.syncNow();
    expect(await sink.readBack('readings', 'test-site')).toHaveLength(0);
    expect(await sink.readBack('windows', 'test-site')).toHaveLength(5);
    expect(store.getCursor(CENTRAL_TARGET, 'readings').seq).toBe(store.maxSeq('readings'));
    await sync.stop();
  });
});
