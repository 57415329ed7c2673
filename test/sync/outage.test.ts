import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { CENTRAL_TARGET } from '../../src/store/index.js';
import { createMariadbSink } from '../../src/sync/mariadb-sink.js';
import { createSync } from '../../src/sync/sync.js';
import { openStore, readingsFrom, tempDir } from '../store/helpers.js';
import { centralDigest, dropPrefix, localDigest, mariadbReachable, requireMariadb, syncConfig, uniquePrefix } from './helpers.js';
import { startProxy } from './proxy.js';
import { sampleRows } from './sample-rows.js';

const up = requireMariadb || (await mariadbReachable());
const prefix = uniquePrefix('outage');
afterAll(async () => {
  if (up) await dropPrefix(prefix);
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const addr = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof addr === 'object' && addr ? addr.port : 1;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!up)('sync through an outage (real MariaDB behind a TCP proxy)', () => {
  it('central tables equal the local ones after cut, refusal and restore; re-sending changes nothing', async () => {
    const site = `outage-${process.pid}`;
    const tmp = tempDir();
    const path = `${tmp.dir}/edge.sqlite`;
    const proxy = await startProxy(3306);
    const metrics = createMetrics(false);
    const store = openStore(path, { groupCommitMs: 2 }, { site, syncEnabled: true, metrics });
    await store.start(new AbortController().signal);
    const config = syncConfig(prefix, { batchRows: 400, intervalMs: 10 }, `mariadb://root@127.0.0.1:${proxy.port}/test`);
    const sync = createSync(config, { site, store, logger: silentLogger(), metrics, clock: systemClock });
    await sync.start(new AbortController().signal);
    try {
      const dead = await closedPort();
      for (let round = 0; round < 60; round++) {
        if (round === 12) await proxy.cut();
        if (round === 24) {
          proxy.pointTo(dead);
          await proxy.restore();
        }
        if (round === 36) proxy.pointTo(3306);
        const s = sampleRows(round);
        store.insert('alarm_events', [s.alarm_events]);
        store.insert('setpoints', [s.setpoints]);
        store.insert('anomalies', [s.anomalies]);
        await store.appendReadings(readingsFrom(round * 200, 200));
        await sleep(8);
      }
      await sync.stop();
      const errors = await metrics.registry.getSingleMetric('wwtp_edge_sync_errors_total')?.get();
      expect(errors?.values[0]?.value ?? 0).toBeGreaterThan(0);
      store.flush();
      await sync.syncNow();
      const central = createMariadbSink(config.mariadb, silentLogger());
      const local = await localDigest(store);
      expect(local['readings']?.rows).toBe(12_000);
      expect(await centralDigest(central, site)).toEqual(local);

      // The same batches sent again: rewind the cursors, sync everything a second time.
      store.flush();
      const raw = new Database(path);
      raw.prepare('UPDATE sync_cursors SET seq = 0 WHERE target = ?').run(CENTRAL_TARGET);
      raw.close();
      await sync.syncNow();
      const first = store.readAfter('readings', 0, 400);
      await central.write('readings', first.rows);
      await central.write('readings', first.rows);
      expect(await centralDigest(central, site)).toEqual(local);
      await central.close();
    } finally {
      await sync.stop();
      await store.stop();
      await proxy.close();
      tmp.cleanup();
    }
  });
});
