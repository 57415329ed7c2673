import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestSchema } from '../../src/onnx/manifest.js';
import { createRng } from '../../src/training/random.js';
import { binPath, repoRoot, tempDir } from '../helpers/daemon.js';

/** `wwtp-edge anomaly ...` as a user runs it: the real entry file, exit code, stdout and stderr. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, 'anomaly', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}

const work = tempDir('wwtp-anomaly-real-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function manifestOf(dir: string) {
  return manifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
}

interface Signals {
  readonly rows: number;
  /** Extra cells per row, after the three process signals. */
  readonly extra?: (i: number) => Record<string, string>;
  /** Cell text for signal j at row i, or undefined to write the value. */
  readonly cell?: (i: number, j: number) => string | undefined;
  /** Added to signal j at row i. */
  readonly offset?: (i: number, j: number) => number;
}

/** Three correlated process signals (flow drives level and DO) with noise, one row a minute. */
function writeSignals(name: string, s: Signals): string {
  const rng = createRng(7);
  const extraNames = Object.keys(s.extra?.(0) ?? {});
  const lines = [['timestamp', 'flow', 'level', 'do', ...extraNames].join(',')];
  for (let i = 0; i < s.rows; i += 1) {
    const flow = 500 + 80 * Math.sin((2 * Math.PI * i) / 100) + 10 * (rng() - 0.5);
    const values = [flow, 2 + 0.002 * flow + 0.02 * (rng() - 0.5), 3 - 0.003 * flow + 0.05 * (rng() - 0.5)];
    const cells = values.map((v, j) => s.cell?.(i, j) ?? (v + (s.offset?.(i, j) ?? 0)).toFixed(4));
    const ts = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
    lines.push([ts, ...cells, ...Object.values(s.extra?.(i) ?? {})].join(','));
  }
  const path = join(work, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function scoreRows(stdout: string): string[][] {
  return stdout.trim().split('\n').slice(1).map((l) => l.split(','));
}

describe('anomaly fit/score on historian-like CSVs (through the CLI)', () => {
  it('trains on the whole file by default, skips rows with blank cells and says how many; scoring names the missing inputs', async () => {
    const blanks = ['', 'NaN', 'null'];
    const csv = writeSignals('blanks.csv', {
      rows: 1200,
      // scattered blanks (bridged), a 100-row outage of one sensor (skipped after 39 rows), five rows with nothing
      cell: (i, j) => ((i >= 900 && i < 905) || (j === 2 && i >= 600 && i < 700) ? '' : (i * 7 + j * 13) % 29 === 0 ? (blanks[(i + j) % 3] ?? '') : undefined),
    });
    const out = join(work, 'blanks-model');
    const fit = await cli(['fit', '--csv', csv, '--out', out]);
    expect(fit.code, fit.stderr).toBe(0);
    const manifest = manifestOf(out);
    expect(manifest.training.rows).toBe(1200);
    expect(manifest.inputs).toEqual(['flow', 'level', 'do']);
    const used = manifest.training.rowsUsed ?? {};
    expect(used['skippedMissing']).toBe(61);
    expect(used['imputedShortGap']).toBeGreaterThan(100);
    expect((used['complete'] ?? 0) + (used['imputedShortGap'] ?? 0) + (used['skippedMissing'] ?? 0)).toBe(1200 - 38);
    expect(fit.stderr).toContain(`${used['imputedShortGap']} with a short gap bridged, 61 skipped for a missing input`);

    const limited = await cli(['fit', '--csv', csv, '--out', join(work, 'blanks-400'), '--rows', '400']);
    expect(limited.code, limited.stderr).toBe(0);
    expect(manifestOf(join(work, 'blanks-400')).training.rows).toBe(400);

    const score = await cli(['score', '--csv', csv, '--model', out]);
    expect(score.code, score.stderr).toBe(0);
    expect(score.stdout.split('\n')[0]).toBe('datetime,score,threshold,is_anomaly,missing');
    const rows = scoreRows(score.stdout);
    expect(rows).toHaveLength(1200);
    const partial = rows.filter((r) => r[4] !== '' && r[1] !== '');
    expect(partial.length).toBeGreaterThan(100);
    for (const r of partial) {
      expect(Number.isFinite(Number(r[1]))).toBe(true);
      expect(['0', '1']).toContain(r[3]);
    }
    // every input blank: no score and no verdict, and the row says which inputs were missing
    expect(rows[902]?.slice(1)).toEqual(['', rows[902]?.[2], '', 'flow|level|do']);
    expect(score.stderr).toMatch(/scored 1200 rows, \d+ flagged, \d+ scored with inputs missing, 5 with no input \(no verdict\)/);
  }, 120_000);

  it('refuses text in a numeric column with its line, and leaves it out of the automatic choice with the reason', async () => {
    const csv = writeSignals('text.csv', { rows: 800, cell: (i, j) => (i === 650 && j === 1 ? 'sensor fault' : undefined) });
    const named = await cli(['fit', '--csv', csv, '--out', join(work, 'text-model'), '--columns', 'flow,level']);
    expect(named.code).toBe(2);
    expect(named.stderr.trim().split('\n')).toHaveLength(1);
    expect(named.stderr).toContain(':652: column "level" value "sensor fault" is not a number');
    const auto = await cli(['fit', '--csv', csv, '--out', join(work, 'text-model')]);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toContain('level (not numeric, line 652: "sensor fault")');
    expect(manifestOf(join(work, 'text-model')).inputs).toEqual(['flow', 'do']);
  }, 120_000);

  it('never models label-like columns automatically, reports them, and warns when --columns names one', async () => {
    const csv = writeSignals('labels.csv', {
      rows: 600,
      extra: (i) => ({ EVENT: i > 400 && i < 420 ? '1' : '0', pump_state: String(i % 3), alarmFlag: (i % 50 === 0 ? 1 : 0).toFixed(1), target_class: '2' }),
    });
    const out = join(work, 'labels-model');
    const auto = await cli(['fit', '--csv', csv, '--out', out]);
    expect(auto.code, auto.stderr).toBe(0);
    const manifest = manifestOf(out);
    expect(manifest.inputs).toEqual(['flow', 'level', 'do']);
    expect(auto.stderr).toContain('EVENT (label-like)');
    expect(auto.stderr).toContain('pump_state (label-like: only a few integer codes)');
    expect(manifest.training.leftOut?.map((l) => l.column)).toEqual(['EVENT', 'pump_state', 'alarmFlag', 'target_class']);

    const named = await cli(['fit', '--csv', csv, '--out', join(work, 'labels-named'), '--columns', 'flow,do,EVENT']);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toContain('warning: column "EVENT" looks like a label');
    expect(manifestOf(join(work, 'labels-named')).inputs).toEqual(['flow', 'do', 'EVENT']);
  }, 120_000);

  it('applies the drift guard to named columns too, loudly and on record; --keep-drifting keeps them', async () => {
    const csv = writeSignals('drift.csv', { rows: 800, offset: (i, j) => (j === 1 ? 0.004 * i : 0) });
    const out = join(work, 'drift-model');
    const named = await cli(['fit', '--csv', csv, '--out', out, '--columns', 'flow,level,do']);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toMatch(/warning: column "level" named in --columns is left out, drifting/);
    const manifest = manifestOf(out);
    expect(manifest.inputs).toEqual(['flow', 'do']);
    expect(manifest.postprocess?.driftExcluded).toEqual(['level']);
    expect(manifest.training.leftOut?.find((l) => l.column === 'level')?.reason).toMatch(/^drifting/);

    const kept = await cli(['fit', '--csv', csv, '--out', join(work, 'drift-kept'), '--columns', 'flow,level,do', '--keep-drifting']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(manifestOf(join(work, 'drift-kept')).inputs).toEqual(['flow', 'level', 'do']);
  }, 120_000);

  it('flags a spike on one of three columns of a 2,000-row CSV, with no column lost', async () => {
    const csv = writeSignals('spike.csv', { rows: 2000, offset: (i, j) => (j === 2 && i >= 1500 && i < 1530 ? 2 : 0) });
    const out = join(work, 'spike-model');
    const fit = await cli(['fit', '--csv', csv, '--out', out, '--rows', '1000']);
    expect(fit.code, fit.stderr).toBe(0);
    expect(fit.stderr).not.toContain('left out');
    expect(manifestOf(out).inputs).toEqual(['flow', 'level', 'do']);
    const score = await cli(['score', '--csv', csv, '--model', out]);
    expect(score.code, score.stderr).toBe(0);
    const flags = scoreRows(score.stdout).map((r) => r[3] === '1');
    expect(flags.slice(1510, 1530).filter(Boolean).length).toBeGreaterThan(15);
    expect(flags.slice(1000, 1500).filter(Boolean).length + flags.slice(1700).filter(Boolean).length).toBeLessThan(10);
  }, 120_000);
});
