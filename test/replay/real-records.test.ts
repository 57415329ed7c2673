import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mosquittoAvailable, MOSQUITTO_URL } from '../broker/helpers.js';
import { binPath, repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';
import { needData } from '../helpers/data.js';

/**
 * The two real plants' records (../shared/data/wwtp-real, or $WWTP_EDGE_DATA/wwtp-real), a slice of
 * each: `wwtp-edge import` through the plant's map file, and a live replay of the same slice through
 * MQTT in the plant's own topic layout and units into a running daemon that maps them, land the same
 * rows. Mines through the embedded broker, Tilburg through an external Mosquitto.
 */
const records = needData('the real plant records', 'wwtp-real/mines_mbr_2010.csv', 'wwtp-real/tilburg_aeration_2021.csv');
const real = records.path('wwtp-real');

const work = tempDir('wwtp-real-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Plant {
  readonly name: string;
  readonly csv: string;
  readonly rows: number;
  readonly broker: 'embedded' | 'external';
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** The first `rows` data rows of a record (its header kept). */
function slice(plant: Plant): string {
  const lines = readFileSync(join(real, plant.csv), 'utf8').split('\n');
  const file = join(work, `${plant.name}-${plant.rows}.csv`);
  writeFileSync(file, `${lines.slice(0, plant.rows + 1).join('\n')}\n`);
  return file;
}

type Row = { stage: string; signal: string; ts: number; value: number; quality: string };

function rowsOf(db: string): { readings: Row[]; deadLetters: Record<string, number> } {
  const handle = new Database(db, { readonly: true });
  try {
    const readings = handle.prepare('SELECT stage, signal, ts, value, quality FROM readings ORDER BY stage, signal, ts').all() as Row[];
    const letters = handle.prepare('SELECT reason, COUNT(*) AS n FROM deadletters GROUP BY reason ORDER BY reason').all() as { reason: string; n: number }[];
    return { readings, deadLetters: Object.fromEntries(letters.map((l) => [l.reason, l.n])) };
  } finally {
    handle.close();
  }
}

const plants: Plant[] = [
  { name: 'mines-mbr', csv: 'mines_mbr_2010.csv', rows: 150, broker: 'embedded' },
  { name: 'tilburg', csv: 'tilburg_aeration_2021.csv', rows: 300, broker: 'external' },
];

describe.skipIf(!records.present)(`real plant records: import and live replay land the same rows${records.note}`, () => {
  it.each(plants)('$name ($rows rows, $broker broker)', async (plant) => {
    if (plant.broker === 'external' && !(await mosquittoAvailable())) {
      console.warn(`test/replay/real-records: ${plant.name} not run through Mosquitto, which is not running at ${MOSQUITTO_URL}`);
      return;
    }
    const csv = slice(plant);
    const map = join(repoRoot, 'config', 'examples', `${plant.name}.map.yaml`);
    const site = join(repoRoot, 'config', 'examples', `${plant.name}.site.yaml`);
    const siteId = `${plant.name}-${process.pid}-${Date.now() % 100_000}`;

    const imported = join(work, `${plant.name}-import.sqlite`);
    const run = await cli(['import', '--csv', csv, '--map', map, '--config', site], { WWTP_EDGE_STORAGE__PATH: imported, WWTP_EDGE_SITE: siteId });
    expect(run.stderr.split('\n').filter((l) => l.startsWith('wwtp-edge:'))).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^imported .*: ${plant.rows} rows, \\d+ readings, \\d+ dead letters`));
    const byImport = rowsOf(imported);
    expect(byImport.readings.length).toBeGreaterThan(plant.rows * 8);
    const at = (stage: string, signal: string, iso: string): Row | undefined => byImport.readings.find((r) => r.stage === stage && r.signal === signal && r.ts === Date.parse(iso));
    if (plant.name === 'mines-mbr') {
      // 2010-04-10T06:10 local (MDT): bio_1_temp 64 degF, mbr_1_tmp 1.5 psi while filtering, 0 psi in relax
      expect(at('aerobic', 'temperature', '2010-04-10T12:10:00Z')?.value).toBeCloseTo(17.778, 3);
      expect(at('membrane', 'tmp', '2010-04-10T12:10:00Z')).toMatchObject({ quality: 'good' });
      expect(at('membrane', 'tmp', '2010-04-10T12:10:00Z')?.value).toBeCloseTo(10.342, 3);
      expect(at('membrane', 'tmp', '2010-04-10T12:11:00Z')).toMatchObject({ value: 0, quality: 'uncertain' });
      expect(at('influent', 'flow', '2010-04-10T12:10:00Z')?.value).toBeCloseTo(4.8 * 5.451, 2);
      // the negative sewage flow: dead letters, not readings
      expect(byImport.deadLetters['out_of_range']).toBeGreaterThan(0);
    } else {
      // 2021-10-09 05:57 local (CEST): Q_inf 1090.56 m3/h
      expect(at('influent', 'flow', '2021-10-09T03:57:00Z')?.value).toBeCloseTo(1090.562 * 24, 1);
      expect(at('aerobic', 'do_zone3', '2021-10-09T03:57:00Z')?.value).toBeCloseTo(1.8056, 3);
    }

    // the daemon gets the site file with the map's tags section appended: one config file
    const config = join(work, `${plant.name}-daemon.yaml`);
    writeFileSync(config, `${readFileSync(site, 'utf8')}\n${readFileSync(map, 'utf8')}`);
    const live = join(work, `${plant.name}-live.sqlite`);
    const env: Record<string, string> = {
      WWTP_EDGE_SITE: siteId,
      WWTP_EDGE_STORAGE__PATH: live,
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_MODELS__ENABLED: 'false',
      ...(plant.broker === 'embedded'
        ? { WWTP_EDGE_BROKER__EMBEDDED__PORT: '0', WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null', WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true' }
        : { WWTP_EDGE_BROKER__MODE: 'external', WWTP_EDGE_BROKER__EXTERNAL__URL: MOSQUITTO_URL, WWTP_EDGE_BROKER__EXTERNAL__CLIENT_ID: `wwtp-edge-${siteId}`, WWTP_EDGE_BROKER__EXTERNAL__CLEAN_SESSION: 'true' }),
    };
    const daemon = await startDaemon(env, ['run', '--config', config]);
    try {
      const url = plant.broker === 'embedded' ? `mqtt://127.0.0.1:${daemon.mqttPort}` : MOSQUITTO_URL;
      const replay = await cli(['replay', '--csv', csv, '--map', map, '--broker', url], {});
      expect(replay.stderr.split('\n').filter((l) => l.startsWith('wwtp-edge:'))).toEqual([]);
      expect(replay.stdout).toMatch(/through the plant's own topics/);
      // every QoS 1 message was acknowledged after its commit: compare once the counts meet
      const deadline = Date.now() + 30_000;
      let byReplay = rowsOf(live);
      while (byReplay.readings.length < byImport.readings.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        byReplay = rowsOf(live);
      }
      expect(byReplay.readings).toEqual(byImport.readings);
      expect(byReplay.deadLetters).toEqual(byImport.deadLetters);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited();
    }
  }, 120_000);
});
