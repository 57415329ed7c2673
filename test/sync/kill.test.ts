import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { CENTRAL_TARGET } from '../../src/store/index.js';
import { createMariadbSink } from '../../src/sync/mariadb-sink.js';
import { createSync } from '../../src/sync/sync.js';
import { openStore, readingsFrom, tempDir } from '../store/helpers.js';
import { centralDigest, dropPrefix, localDigest, mariadbReachable, requireMariadb, syncConfig, uniquePrefix } from './helpers.js';
import { sampleRows } from './sample-rows.js';

const up = requireMariadb || (await mariadbReachable());
const prefix = uniquePrefix('kill');
afterAll(async () => {
  if (up) await dropPrefix(prefix);
});
const child = fileURLToPath(new URL('./fixtures/sync-child.ts', import.meta.url));

/** Runs the syncing child and SIGKILLs it after `lines` progress lines; true if it was killed. */
function syncAndKill(path: string, site: string, lines: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path, prefix, site], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (line.startsWith('PROGRESS') && ++seen === lines) proc.kill('SIGKILL');
    });
    proc.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(true);
      else if (code === 0) resolve(false);
      else reject(new Error(`sync child exited ${code}: ${stderr}`));
    });
  });
}

describe.skipIf(!up)('kill -9 of a syncing process', () => {
  it('resumes from the cursor: no row missing, none twice, cursor never ahead of the central commit', async () => {
    const site = `kill-${process.pid}`;
    const tmp = tempDir();
    const path = `${tmp.dir}/edge.sqlite`;
    const metrics = createMetrics(false);
    const store = openStore(path, {}, { site, syncEnabled: true, metrics });
    await store.start(new AbortController().signal);
    await store.appendReadings(readingsFrom(0, 6_000));
    for (let i = 0; i < 300; i++) {
      const s = sampleRows(i);
      store.insert('alarm_events', [s.alarm_events]);
      store.insert('setpoints', [s.setpoints]);
    }
    await store.stop();
    const config = syncConfig(prefix);
    const central = createMariadbSink(config.mariadb, silentLogger());
    try {
      let kills = 0;
      for (const lines of [3, 9, 17, 26]) {
        if (await syncAndKill(path, site, lines)) kills++;
        const reopened = openStore(path, {}, { site, syncEnabled: true });
        await reopened.start(new AbortController().signal);
        const cursor = reopened.getCursor(CENTRAL_TARGET, 'readings').seq;
        const synced = reopened.readAfter('readings', 0, cursor).rows.length;
        await reopened.stop();
        expect((await central.readBack('readings', site)).length).toBeGreaterThanOrEqual(synced);
      }
      expect(kills).toBeGreaterThan(0);
      const final = openStore(path, {}, { site, syncEnabled: true, metrics: createMetrics(false) });
      await final.start(new AbortController().signal);
      const sync = createSync(config, { site, store: final, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock });
      await sync.syncNow();
      await sync.stop();
      const local = await localDigest(final);
      expect(local['readings']?.rows).toBe(6_000);
      expect(await centralDigest(central, site)).toEqual(local);
      await final.stop();
    } finally {
      await central.close();
      tmp.cleanup();
    }
  });
});
