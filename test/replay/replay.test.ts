import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { client, startDaemonSide, until, type DaemonSide } from '../broker/helpers.js';
import { tempDir } from '../helpers/daemon.js';
import { parseMapFile } from '../../src/mapping/map-file.js';
import { replayCsv } from '../../src/replay/replay.js';

const work = tempDir('wwtp-replay-');
afterAll(() => rmSync(work, { recursive: true, force: true }));
let side: DaemonSide | undefined;
afterEach(async () => {
  await side?.stop();
  side = undefined;
});

const opts = (csv: string, map: ReturnType<typeof parseMapFile>, site: string, signals: DaemonSide['config']['signals']) => ({
  csv,
  map,
  site,
  signals,
  speed: 0,
  now: () => Date.now(),
  sleep: () => Promise.resolve(),
});

describe('replay as wwtp/{site}/{stage}/{signal} readings', () => {
  it('keeps reading the older column map with scale and offset', async () => {
    side = await startDaemonSide({ mode: 'embedded' });
    const csv = join(work, 'old.csv');
    const t0 = Date.now() - 3_600_000;
    writeFileSync(csv, `ts;"do raw";flow\n${t0};150;100\n${t0 + 60_000};"210";\n`);
    const map = parseMapFile({ time: { column: 'ts', format: 'epoch-ms' }, columns: [{ column: 'do raw', stage: 'aerobic', signal: 'do', scale: 0.01, offset: 0.5 }, { column: 'flow', stage: 'influent', signal: 'flow' }] }, 'old.yaml');
    const c = await client(side.url());
    try {
      const result = await replayCsv(c, opts(csv, map, side.config.site, side.config.signals), new AbortController().signal);
      expect(result).toEqual({ rows: 2, published: 3, skipped: 1, layout: 'wwtp' });
    } finally {
      await c.endAsync();
    }
    await until(() => side!.sink.readings.length === 3, 'readings stored');
    expect(side.sink.readings.map((r) => [r.stage, r.signal, r.ts, +r.value.toFixed(6)])).toEqual([
      ['aerobic', 'do', t0, 2],
      ['influent', 'flow', t0, 100],
      ['aerobic', 'do', t0 + 60_000, 2.6],
    ]);
  });

  it('converts a tag map without MQTT sources to the signal units', async () => {
    side = await startDaemonSide({ mode: 'embedded' });
    const csv = join(work, 'units.csv');
    const t0 = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    writeFileSync(csv, `time,TI1,FI1\n${t0},68,1\n`);
    const map = parseMapFile({ tags: { csv: { time: { column: 'time' } }, points: [{ tag: 'TI1', stage: 'aerobic', signal: 'temperature', unit: 'degF' }, { tag: 'FI1', stage: 'influent', signal: 'flow', unit: 'MGD' }] } }, 'units.yaml');
    const c = await client(side.url());
    try {
      expect(await replayCsv(c, opts(csv, map, side.config.site, side.config.signals), new AbortController().signal)).toMatchObject({ published: 2, layout: 'wwtp' });
    } finally {
      await c.endAsync();
    }
    await until(() => side!.sink.readings.length === 2, 'readings stored');
    expect(side.sink.readings.map((r) => [r.signal, +r.value.toFixed(3)])).toEqual([['temperature', 20], ['flow', 3785.412]]);
  });
});
