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

const cli = (args: string[], db: string) =>
  new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [binPath, ...args], { cwd: repoRoot, env: { ...process.env, WWTP_EDGE_STORAGE__PATH: db }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
const stored = (db: string) => {
  const handle = new Database(db, { readonly: true });
  try {
    return handle.prepare('SELECT stage, signal, ts, value FROM readings ORDER BY ts, signal').all();
  } finally {
    handle.close();
  }
};

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
    const ok = await cli(['import', '--csv', csv, '--map', map], db);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe(`imported ${csv}: 2 rows, 2 readings, 0 dead letters, 2026-05-01T12:00:00.000Z to 2026-05-01T12:01:00.000Z -> ${db}\n`);
    const handle = new Database(db, { readonly: true });
    expect(handle.prepare('SELECT stage, signal, ts, value, quality FROM readings ORDER BY ts').all()).toEqual([
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 4, 1, 12), value: 2.1, quality: 'good' },
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 4, 1, 12, 1), value: 2.2, quality: 'good' },
    ]);
    handle.close();
    const badMap = write('bad.map.yaml', 'tags:\n  points:\n    - { tag: T, stage: aerobic, signal: temperature, unit: psi }\n');
    const bad = await cli(['import', '--csv', csv, '--map', badMap], db);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n').filter((l) => l.startsWith('wwtp-edge:'))).toEqual([expect.stringMatching(/tag T: psi is a pressure, degC a temperature/)]);
  }, 60_000);

  it('reads a European export (semicolons, decimal commas, day-first dates) once the map says so; before, exit 1 with a hint for each', async () => {
    const csv = write('de.csv', 'Zeit;Zulauf;O2\n07.12.2026 10:00;1.234,5;2,1\n07.12.2026 10:01:30;1240;-0,2\n7.12.2026 9:05;1240,25;2\n31.02.2026 10:00;1;1\n');
    const points = '  points:\n    - { tag: Zulauf, stage: influent, signal: flow, unit: m3/h }\n    - { tag: O2, stage: aerobic, signal: do, unit: mg/L }\n';
    const plain = write('de-plain.map.yaml', `tags:\n  csv:\n    time: { column: Zeit, timezone: Europe/Berlin }\n${points}`);
    const first = await cli(['import', '--csv', csv, '--map', plain], join(work, 'de-plain.sqlite'));
    expect(first.code).toBe(1);
    expect(first.err).toContain('hint: 4 of 4 rows have a time that is not iso (first "07.12.2026 10:00"): give tags.csv.time.format');
    expect(first.err).toContain(`nothing imported from ${csv}`);
    const dates = write('de-dates.map.yaml', `tags:\n  csv:\n    time: { column: Zeit, format: 'DD.MM.YYYY hh:mm[:ss]', timezone: Europe/Berlin }\n${points}`);
    const second = await cli(['import', '--csv', csv, '--map', dates], join(work, 'de-dates.sqlite'));
    expect(second.code).toBe(0);
    // 1240 and 2 read as numbers whatever the mark; the four with a comma are refused, and the hint says why
    expect(second.err).toContain('hint: 4 values refused as no number look like decimal commas (1234,5): set tags.csv.decimal: ","');
    const full = write('de.map.yaml', `tags:\n  csv:\n    time: { column: Zeit, format: 'DD.MM.YYYY hh:mm[:ss]', timezone: Europe/Berlin }\n    decimal: ','\n${points}`);
    const db = join(work, 'de.sqlite');
    const third = await cli(['import', '--csv', csv, '--map', full], db);
    expect(third.code).toBe(0);
    expect(third.err).not.toContain('hint:');
    // Berlin is UTC+1 in December; 31.02. is no date; a DO of -0.2 is out of range; m3/h to m3/d
    expect(third.out).toContain('4 rows, 5 readings, 2 dead letters (out_of_range 1, bad_timestamp 1), 2026-12-07T08:05:00.000Z to 2026-12-07T09:01:30.000Z');
    expect(stored(db)).toEqual([
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 11, 7, 8, 5), value: 2 },
      { stage: 'influent', signal: 'flow', ts: Date.UTC(2026, 11, 7, 8, 5), value: 1240.25 * 24 },
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 11, 7, 9), value: 2.1 },
      { stage: 'influent', signal: 'flow', ts: Date.UTC(2026, 11, 7, 9), value: 1234.5 * 24 },
      { stage: 'influent', signal: 'flow', ts: Date.UTC(2026, 11, 7, 9, 1, 30), value: 1240 * 24 },
    ]);
  }, 60_000);

  it('reads a US export with month-first dates and AM/PM in the plant\'s zone, and refuses a time pattern it cannot read with exit 2', async () => {
    const csv = write('us.csv', 'Timestamp,DO\n03/08/2026 1:59:00 AM,2.5\n03/08/2026 3:00:00 AM,2.6\n12/31/2025 12:30:00 PM,2.7\n12/31/2025 12:30:00 AM,2.8\n13/01/2026 1:00:00 PM,2.9\n');
    const map = write('us.map.yaml', "tags:\n  csv:\n    time: { column: Timestamp, format: 'MM/DD/YYYY h:mm:ss A', timezone: America/Chicago }\n  points:\n    - { tag: DO, stage: aerobic, signal: do }\n");
    const db = join(work, 'us.sqlite');
    const run = await cli(['import', '--csv', csv, '--map', map], db);
    expect(run.code).toBe(0);
    expect(run.out).toContain('5 rows, 4 readings, 1 dead letters (bad_timestamp 1)');
    // 1:59 CST then 3:00 CDT the night the clocks go forward: one minute apart; 12:30 AM is half past midnight
    expect(stored(db)).toEqual([
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2025, 11, 31, 6, 30), value: 2.8 },
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2025, 11, 31, 18, 30), value: 2.7 },
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 2, 8, 7, 59), value: 2.5 },
      { stage: 'aerobic', signal: 'do', ts: Date.UTC(2026, 2, 8, 8, 0), value: 2.6 },
    ]);
    const bad = write('us-bad.map.yaml', "tags:\n  csv:\n    time: { column: Timestamp, format: 'MM/DD hh:mm' }\n  points:\n    - { tag: DO, stage: aerobic, signal: do }\n");
    const refused = await cli(['import', '--csv', csv, '--map', bad], join(work, 'us-bad.sqlite'));
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/tags\.csv\.time\.format.*no YYYY/);
  }, 60_000);
});
