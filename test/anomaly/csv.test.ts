import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { AnomalyError, fitCsv, scoreCsv } from '../../src/anomaly/index.js';
import { detectSeparator, numericColumns, parseCsv } from '../../src/anomaly/csv.js';
import { persistentFlags, trailingMean } from '../../src/anomaly/postprocess.js';
import { readBundle } from '../../src/onnx/bundle.js';
import { createRng } from '../../src/training/random.js';

const work = mkdtempSync(join(tmpdir(), 'wwtp-anomaly-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Aeration-like signals: airflow drives DO, NH4 falls with DO; a DO sensor fault from row 420 to 480. */
function plantCsv(separator: string): string {
  const rng = createRng(11);
  const lines = [['datetime', 'airflow', 'do', 'nh4', 'temperature', 'anomaly'].join(separator)];
  for (let i = 0; i < 560; i += 1) {
    const airflow = 3000 + 400 * Math.sin(i / 30) + 50 * rng();
    let dO = 0.0006 * airflow + 0.1 * rng();
    const nh4 = 6 - 2.5 * dO + 0.2 * rng();
    const fault = i >= 420 && i < 480;
    if (fault) dO += 1.5;
    const ts = new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString().replace('T', ' ').slice(0, 19);
    lines.push([ts, airflow.toFixed(2), dO.toFixed(4), nh4.toFixed(4), (15 + 0.01 * rng()).toFixed(3), fault ? '1.0' : '0.0'].join(separator));
  }
  return `${lines.join('\r\n')}\r\n`;
}

describe('offline anomaly detector on CSV', () => {
  it('fits on the first rows, writes a bundle, and flags an injected sensor fault', async () => {
    const csv = join(work, 'plant.csv');
    writeFileSync(csv, plantCsv(';'));
    const out = join(work, 'model');
    const epochs: number[] = [];
    const fit = await fitCsv({ csv, out, rows: 300, settings: { epochs: 60 } }, (p) => epochs.push(p.epoch));
    expect(fit.columns).toEqual(['airflow', 'do', 'nh4', 'temperature']);
    expect(epochs.length).toBeGreaterThan(0);
    const bundle = await readBundle(out);
    expect(bundle.manifest.kind).toBe('detector');
    expect(bundle.manifest.threshold).toBe(fit.threshold);
    expect(bundle.manifest.training.rows).toBe(300);
    expect(bundle.manifest.verification.maxAbsDiff).toBeLessThan(1e-4);

    const sink = new Collect();
    const summary = await scoreCsv({ csv, model: out }, sink);
    const lines = sink.text.trim().split('\n');
    expect(lines[0]).toBe('datetime,score,threshold,is_anomaly,missing');
    expect(lines).toHaveLength(561);
    expect(summary.rows).toBe(560);
    const flags = lines.slice(1).map((l) => l.split(',')[3] === '1');
    expect(lines[1]?.startsWith('2024-01-01 00:00:00,')).toBe(true);
    const inFault = flags.slice(430, 480).filter(Boolean).length;
    // the EWMA input filter (span 39 rows) clears a large excursion only a few time constants after it ends
    const outside = flags.slice(300, 420).filter(Boolean).length + flags.slice(540).filter(Boolean).length;
    expect(inFault).toBeGreaterThan(40);
    expect(outside).toBeLessThan(10);
  });

  it('reads comma-separated files and honours --columns', async () => {
    const csv = join(work, 'comma.csv');
    writeFileSync(csv, plantCsv(','));
    const fit = await fitCsv({ csv, out: join(work, 'model2'), columns: ['airflow', 'do'], rows: 200, keepDrifting: true, settings: { epochs: 10 } });
    expect(fit.manifest.inputs).toEqual(['airflow', 'do']);
    expect(fit.manifest.postprocess?.driftExcluded).toBeUndefined();
    expect(fit.leftOut.map((l) => l.column)).toEqual(['nh4', 'temperature', 'anomaly']);
    // the slow airflow swing looks like drift in 200 rows: without --keep-drifting a named column is left out loudly
    const drifting = await fitCsv({ csv, out: join(work, 'model3'), columns: ['airflow', 'do'], rows: 200, settings: { epochs: 10 } });
    expect(drifting.manifest.inputs).not.toContain('airflow');
    expect(drifting.manifest.postprocess?.driftExcluded).toContain('airflow');
    expect(drifting.warnings.join('\n')).toMatch(/column "airflow" named in --columns is left out, drifting/);
  });

  it('gives one clear error with a code and exit code 2 for bad input', async () => {
    const bad = join(work, 'bad.csv');
    writeFileSync(bad, 'datetime;a;b\n2024-01-01 00:00:00;1;2\n2024-01-01 00:00:01;1\n');
    await expect(fitCsv({ csv: bad, out: join(work, 'x') })).rejects.toMatchObject({ code: 'CSV_BAD_ROW', exitCode: 2 });
    const text = join(work, 'text.csv');
    writeFileSync(text, 'datetime;a;b\n2024-01-01 00:00:00;1;2\n2024-01-01 00:00:01;1;oops\n');
    await expect(fitCsv({ csv: text, out: join(work, 'x'), columns: ['a', 'b'], rows: 2 })).rejects.toMatchObject({ code: 'CSV_NOT_NUMERIC' });
    await expect(fitCsv({ csv: text, out: join(work, 'x'), columns: ['zz'], rows: 2 })).rejects.toMatchObject({ code: 'CSV_UNKNOWN_COLUMN' });
    await expect(fitCsv({ csv: join(work, 'missing.csv'), out: join(work, 'x') })).rejects.toBeInstanceOf(AnomalyError);
    await expect(fitCsv({ csv: text, out: join(work, 'x'), rows: 400 })).rejects.toMatchObject({ code: 'CSV_TOO_FEW_ROWS', exitCode: 2 });
    await expect(scoreCsv({ csv: text, model: join(work, 'nowhere') }, new Collect())).rejects.toMatchObject({ code: 'BUNDLE_NOT_FOUND', exitCode: 2 });
    const error = await fitCsv({ csv: bad, out: join(work, 'x') }).catch((e: unknown) => e);
    expect(String((error as Error).message)).not.toContain('\n');
  });
});

describe('CSV parsing and post-processing', () => {
  it('detects the separator and leaves label columns out', () => {
    expect(detectSeparator('a;b;c')).toBe(';');
    expect(detectSeparator('a,b,c')).toBe(',');
    const table = parseCsv('datetime,x,anomaly,changepoint,name\n2024,1,0,0,p1\n2025,2,1,0,p2\n', 'mem.csv');
    expect(table.timeColumn).toBe('datetime');
    expect(numericColumns(table)).toEqual(['x']);
  });

  it('smooths with a trailing window and flags only persistent excursions', () => {
    expect(trailingMean([2, 4, 6, 8], 2)).toEqual([2, 3, 5, 7]);
    expect(persistentFlags([5, 0, 5, 5, 5], 1, 2)).toEqual([false, false, false, true, true]);
  });
});
