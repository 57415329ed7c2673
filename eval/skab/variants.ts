/**
 * Fast study of score variants on SKAB without the autoencoder: standard scores of the EWMA-smoothed,
 * drift-guarded inputs (the linear part of the detector's ensemble score), same files, split and metric
 * as run.ts. Each variant is reported at the grid margin with the best F1 at FAR <= 10 % on all 34 files
 * (in-sample) and by the two-fold check of twofold.ts (held out).
 *
 *   npx tsx eval/skab/variants.ts
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { columnMatrix, numericColumns, readCsv } from '../../src/anomaly/csv.js';
import { keptColumns } from '../../src/anomaly/fit.js';
import { ewmaRows } from '../../src/anomaly/postprocess.js';
import { applyScaler, fitScaler } from '../../src/training/scaler.js';
import { dataDir } from '../lib/report.js';
import { chooseMargin, metrics, pooledCounts, twoFold, type ScoredFile } from './twofold.js';

const TRAIN_ROWS = 400;
const FINE_GRID = Array.from({ length: 61 }, (_, k) => Math.round((1 + 0.05 * k) * 100) / 100);

interface Raw { readonly name: string; readonly rows: number[][]; readonly labels: number[] }

interface Prep {
  readonly span?: number;
  readonly median?: number;
  readonly driftRatio?: number;
  readonly relativeFloor?: number;
  readonly robust?: boolean;
}

interface Standardised { readonly z: number[][]; readonly warmup: number }

/** Trailing median over up to `window` rows, per column. */
function medianRows(rows: readonly (readonly number[])[], window: number): number[][] {
  return rows.map((_, i) => {
    const from = Math.max(0, i - window + 1);
    return (rows[i] ?? []).map((_v, j) => {
      const w = rows.slice(from, i + 1).map((r) => r[j] ?? 0).sort((a, b) => a - b);
      const mid = Math.floor(w.length / 2);
      return w.length % 2 === 1 ? (w[mid] ?? 0) : ((w[mid - 1] ?? 0) + (w[mid] ?? 0)) / 2;
    });
  });
}

function standardise(file: Raw, p: Prep): Standardised {
  const span = p.span ?? 39;
  const median = p.median ?? 1;
  const warmup = span - 1 + median - 1;
  const filtered = median > 1 ? medianRows(file.rows, median) : file.rows;
  const smooth = ewmaRows(filtered, span);
  const trainRaw = file.rows.slice(0, TRAIN_ROWS);
  const trainSmooth = smooth.slice(warmup, TRAIN_ROWS);
  const kept = keptColumns(trainSmooth, trainRaw, p.driftRatio ?? 3);
  const pick = (r: readonly number[]): number[] => kept.map((j) => r[j] ?? 0);
  const scaler = fitScaler(trainSmooth.map(pick), { kind: p.robust ? 'robust' : 'standard', relativeFloor: p.relativeFloor ?? 0.003 });
  return { z: smooth.map((r) => applyScaler(scaler, pick(r))), warmup };
}

const maxAbs = (r: readonly number[]): number => Math.max(...r.map(Math.abs));

function trainingMax(values: readonly number[], warmup: number): number {
  return Math.max(...values.slice(warmup, TRAIN_ROWS));
}

/** Solves the inverse of a small symmetric positive definite matrix (Gauss-Jordan). */
function inverse(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c += 1) {
    const pivot = m[c]?.[c] ?? 1;
    m[c] = (m[c] ?? []).map((v) => v / pivot);
    for (let r = 0; r < n; r += 1) {
      if (r === c) continue;
      const f = m[r]?.[c] ?? 0;
      m[r] = (m[r] ?? []).map((v, k) => v - f * (m[c]?.[k] ?? 0));
    }
  }
  return m.map((row) => row.slice(n));
}

/** sqrt(z' S^-1 z) with S the training covariance shrunk toward its mean variance. */
function mahalanobis(s: Standardised, shrink: number): number[] {
  const train = s.z.slice(s.warmup, TRAIN_ROWS);
  const k = train[0]?.length ?? 0;
  const mean = Array.from({ length: k }, (_, j) => train.reduce((a, r) => a + (r[j] ?? 0), 0) / train.length);
  const cov = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => train.reduce((a, r) => a + ((r[i] ?? 0) - (mean[i] ?? 0)) * ((r[j] ?? 0) - (mean[j] ?? 0)), 0) / train.length));
  const avg = cov.reduce((a, row, i) => a + (row[i] ?? 0), 0) / k;
  const inv = inverse(cov.map((row, i) => row.map((v, j) => (1 - shrink) * v + (i === j ? shrink * avg : 0))));
  return s.z.map((r) => Math.sqrt(Math.max(0, r.reduce((a, zi, i) => a + zi * (inv[i] ?? []).reduce((b, q, j) => b + q * (r[j] ?? 0), 0), 0))));
}

type Variant = (s: Standardised) => { scores: number[]; base: number };

const globalMax: Variant = (s) => {
  const scores = s.z.map(maxAbs);
  return { scores, base: trainingMax(scores, s.warmup) };
};

/** Each input against its own training max, never below `floor` (a number, or 'mean' of the inputs' maxima). */
function perInput(floor: number | 'mean'): Variant {
  return (s) => {
    const width = s.z[0]?.length ?? 0;
    const own = Array.from({ length: width }, (_, j) => trainingMax(s.z.map((r) => Math.abs(r[j] ?? 0)), s.warmup));
    const lower = floor === 'mean' ? own.reduce((a, b) => a + b, 0) / Math.max(1, width) : floor;
    return { scores: s.z.map((r) => Math.max(...r.map((v, j) => Math.abs(v) / Math.max(own[j] ?? 1, lower)))), base: 1 };
  };
}

function withMahalanobis(shrink: number, alone: boolean): Variant {
  return (s) => {
    const d = mahalanobis(s, shrink);
    const dMax = trainingMax(d, s.warmup);
    if (alone) return { scores: d, base: dMax };
    const g = s.z.map(maxAbs);
    const gMax = trainingMax(g, s.warmup);
    return { scores: g.map((v, i) => Math.max(v / gMax, (d[i] ?? 0) / dMax)), base: 1 };
  };
}

/** Two-level alarm: above T at once, or above ratio x T for k rows in a row (min of the last k scores). */
function twoLevel(ratio: number, k: number): Variant {
  return (s) => {
    const { scores, base } = globalMax(s);
    return { scores: scores.map((v, i) => Math.max(v, Math.min(...scores.slice(Math.max(0, i - k + 1), i + 1)) / ratio * (i >= k - 1 ? 1 : 0))), base };
  };
}

async function loadFiles(): Promise<Raw[]> {
  const root = join(dataDir(), 'skab');
  const out: Raw[] = [];
  for (const dir of ['valve1', 'valve2', 'other']) {
    const names = readdirSync(join(root, dir)).filter((f) => f.endsWith('.csv')).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    for (const n of names) {
      const table = await readCsv(join(root, dir, n));
      const labelIndex = table.header.indexOf('anomaly');
      out.push({ name: `${dir}/${n}`, rows: columnMatrix(table, numericColumns(table)), labels: table.cells.map((r) => Number(r[labelIndex])) });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const files = await loadFiles();
  const rule = { persistence: 1, hold: 0, firstTestRow: TRAIN_ROWS };
  const cache = new Map<string, Standardised[]>();
  const prepared = (p: Prep): Standardised[] => {
    const key = JSON.stringify(p);
    const hit = cache.get(key) ?? files.map((f) => standardise(f, p));
    cache.set(key, hit);
    return hit;
  };
  const cases: [string, Prep, Variant][] = [
    ['standard scores, max over inputs, one threshold (linear part of the default)', {}, globalMax],
    ['per-input thresholds, own training max (no margin up to 4 keeps FAR <= 10 %)', {}, perInput(0)],
    ['per-input thresholds, floor 2.5', {}, perInput(2.5)],
    ['per-input thresholds, floor = mean of the inputs\' maxima', {}, perInput('mean')],
    ['Mahalanobis distance (covariance shrunk 0.3) alone', {}, withMahalanobis(0.3, true)],
    ['max(standard score, Mahalanobis), each over its training max', {}, withMahalanobis(0.3, false)],
    ['two-level alarm: 0.8 x threshold for 30 rows', {}, twoLevel(0.8, 30)],
    ['causal median of 5 rows before the EWMA', { median: 5 }, globalMax],
    ['robust scaling (median, IQR/1.349)', { robust: true }, globalMax],
    ['EWMA span 25 (sensitivity)', { span: 25 }, globalMax],
    ['EWMA span 31 (sensitivity)', { span: 31 }, globalMax],
    ['EWMA span 47 (sensitivity)', { span: 47 }, globalMax],
    ['scale floor 0.002 x abs(mean) (sensitivity)', { relativeFloor: 0.002 }, globalMax],
    ['scale floor 0.004 x abs(mean) (sensitivity)', { relativeFloor: 0.004 }, globalMax],
    ['drift ratio 2.5 (sensitivity)', { driftRatio: 2.5 }, globalMax],
    ['drift ratio 4 (sensitivity)', { driftRatio: 4 }, globalMax],
  ];
  console.log('| variant (no autoencoder) | in-sample margin | F1 | FAR, % | two-fold held-out F1 | FAR, % |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, prep, variant] of cases) {
    const scored: ScoredFile[] = prepared(prep).map((s, i) => ({ name: files[i]?.name ?? '', labels: files[i]?.labels ?? [], ...variant(s) }));
    const margin = chooseMargin(scored, rule, 10, FINE_GRID);
    const m = metrics(pooledCounts(scored, margin, rule));
    const held = metrics(twoFold(scored, rule).pooled);
    console.log(`| ${label} | ${margin} | ${m.f1.toFixed(3)} | ${m.far.toFixed(2)} | ${held.f1.toFixed(3)} | ${held.far.toFixed(2)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
