import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { DeadLetter, Reading } from '../../src/contract/reading.js';
import { importCsv, summaryLine } from '../../src/mapping/import.js';
import { parseMapFile } from '../../src/mapping/map-file.js';
import { binPath, repoRoot, tempDir } from '../helpers/daemon.js';

const work = tempDir('wwtp-import-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const now = Date.UTC(2026, 5, 1, 12);
const tags = {
  csv: { time: { column: 'Time Stamp', format: 'iso', timezone: 'America/New_York' } },
  points: [
    { tag: 'FIT-101 (MGD)', stage: 'influent', signal: 'flow', unit: 'MGD' },
    { tag: 'AIT_201', stage: 'aerobic', signal: 'do', valid: { when: { tag: 'BLWR_1_RUN', equals: 1 }, otherwise: 'uncertain' } },
    { tag: 'TIT_201', stage: 'aerobic', signal: 'temperature', unit: 'degF' },
  ],
};

function sink() {
  const readings: Reading[] = [];
  const deadLetters: DeadLetter[] = [];
  return {
    readings,
    deadLetters,
    appendReadings: (r: readonly Reading[]) => {
      readings.push(...r);
      return Promise.resolve(r);
    },
    appendDeadLetter: (d: DeadLetter) => void deadLetters.push(d),
  };
}

function write(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

describe('wwtp-edge import', () => {
  it('maps a historian export, dead-letters its bad rows and cells with their line, and sums it up in one line', async () => {
    const csv = write(
      'export.csv',
      [
        '"Time Stamp";"FIT-101 (MGD)";AIT_201;BLWR_1_RUN;TIT_201;"Comment; free text"',
        '2026-05-01 08:00;2,5;2.1;1;68;"ok; checked"',
        '2026-05-01 08:15;2.6;1.9;0;;""',
        '2026-05-01 08:30;-1;abc;1;999;x',
        'not a time;2.5;2;1;68;x',
        '2026-05-01 08:45;2.7',
        '2026-05-01 09:00;2.8;2.0;1;70;"a ""quoted""; text"',
        '',
      ].join('\r\n'),
    );
    const config = loadConfig({ override: { tags } });
    const s = sink();
    const summary = await importCsv({ csv, config, mapFile: 'map.yaml', sink: s, now: () => now, signal: new AbortController().signal });
    expect(s.readings.map((r) => [r.signal, r.ts, +r.value.toFixed(3), r.quality])).toEqual([
      ['do', Date.UTC(2026, 4, 1, 12), 2.1, 'good'],
      ['temperature', Date.UTC(2026, 4, 1, 12), 20, 'good'],
      ['flow', Date.UTC(2026, 4, 1, 12, 15), 9842.071, 'good'],
      // the blower is off: the DO is kept, marked
      ['do', Date.UTC(2026, 4, 1, 12, 15), 1.9, 'uncertain'],
      ['flow', Date.UTC(2026, 4, 1, 13), 10599.153, 'good'],
      ['do', Date.UTC(2026, 4, 1, 13), 2, 'good'],
      ['temperature', Date.UTC(2026, 4, 1, 13), 21.111, 'good'],
    ]);
    expect(s.deadLetters.map((d) => [d.topic, d.reason, d.payload])).toEqual([
      ['import:export.csv:2', 'wrong_type', '2,5'],
      ['import:export.csv:4', 'out_of_range', '-1'],
      ['import:export.csv:4', 'wrong_type', 'abc'],
      ['import:export.csv:4', 'out_of_range', '999'],
      ['import:export.csv:5', 'bad_timestamp', 'not a time,2.5,2,1,68,x'],
      ['import:export.csv:6', 'unparseable', '2026-05-01 08:45,2.7,,,,'],
    ]);
    expect(s.deadLetters[1]?.detail).toBe('line 4: tag FIT-101 (MGD) (-1 MGD): -3785.411784 outside [0, 120000]');
    expect(summaryLine('export.csv', summary)).toBe(
      'imported export.csv: 6 rows, 7 readings, 6 dead letters (wrong_type 2, out_of_range 2, bad_timestamp 1, unparseable 1), 2026-05-01T12:00:00.000Z to 2026-05-01T13:00:00.000Z, 1 columns not in the map',
    );
  });

  it('stops, exit 2, before the store retention would delete what it imports, and on a CSV without the time column', async () => {
    const old = write('old.csv', 'Time Stamp,AIT_201\n2001-01-01 00:00,2\n');
    const config = loadConfig({ override: { tags } });
    await expect(importCsv({ csv: old, config, mapFile: 'map.yaml', sink: sink(), now: () => now, signal: new AbortController().signal })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/line 2: 2001-01-01T05:00:00.000Z is older than storage.retentionDays.readings \(400 d\)/),
    });
    const noTime = write('notime.csv', 'when,AIT_201\n2026-01-01 00:00,2\n');
    await expect(importCsv({ csv: noTime, config, mapFile: 'map.yaml', sink: sink(), now: () => now, signal: new AbortController().signal })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/no time column "Time Stamp"/),
    });
  });

  it('reads the older replay map (time + columns with scale and offset)', () => {
    const map = parseMapFile({ site: 'p1', time: { column: 'ts', format: 'epoch-s' }, columns: [{ column: 'do_raw', stage: 'aerobic', signal: 'do', scale: 0.01, offset: 0.1 }] }, 'old.yaml');
    expect(map).toMatchObject({ legacy: true, site: 'p1', tags: { csv: { time: { column: 'ts', format: 'epoch-s', timezone: 'UTC' } }, points: [{ tag: 'do_raw', stage: 'aerobic', signal: 'do', scale: 0.01, offset: 0.1 }] } });
    expect(() => parseMapFile({ tags: { points: [{ tag: 'x', stage: 'aerobic' }] } }, 'bad.yaml')).toThrow(/^map bad.yaml: tags.points.0.signal: /);
  });

  it('runs as a command: the summary on stdout, the rows in the config store; a bad map is one line and exit 2', async () => {
    const csv = write('cli.csv', 'Time Stamp,AIT_201,BLWR_1_RUN\n2026-05-01 08:00,2.1,1\n2026-05-01 08:01,2.2,1\n');
    const map = write('cli.map.yaml', `tags:\n  csv: { time: { column: Time Stamp, timezone: America/New_York } }\n  points:\n    - { tag: AIT_201, stage: aerobic, signal: do, valid: { when: { tag: BLWR_1_RUN, equals: 1 } } }\n`);
    const db = join(work, 'cli.sqlite');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [binPath, ...args], { cwd: repoRoot, env: { ...process.env, WWTP_EDGE_STORAGE__PATH: db }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('exit', (code) => resolve({ code, out, err }));
      });
    const ok = await run(['import', '--csv', csv, '--map', map]);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe(`imported ${csv}: 2 rows, 2 readings, 0 dead letters, 2026-05-01T12:00:00.000Z to 2026-05-01T12:01:00.000Z -> ${db}\n`);
    const handle = new Database(db, { readonly: true });
    expect(handle.prepare('SELECT stage, signal, ts, value, quality FROM readings ORDER BY ts').all()).toEqual([
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 4, 1, 12), value: 2.1, quality: 'good' },
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 4, 1, 12, 1), value: 2.2, quality: 'good' },
    ]);
    handle.close();
    const badMap = write('bad.map.yaml', 'tags:\n  points:\n    - { tag: T, stage: aerobic, signal: temperature, unit: psi }\n');
    const bad = await run(['import', '--csv', csv, '--map', badMap]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n').filter((l) => l.startsWith('wwtp-edge:'))).toEqual([expect.stringMatching(/tag T: psi is a pressure, degC a temperature/)]);
  }, 60_000);
});
