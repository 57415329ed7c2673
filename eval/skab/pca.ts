/**
 * PCA T-squared + Q baseline for the SKAB protocol (own implementation): per file, standardise the
 * training rows, keep the principal components that explain `varianceShare` of their variance, and
 * score each row by max(T² / T² limit, Q / Q limit), the limits being the largest T² and Q of the
 * training rows (threshold from training rows only, as the product's q1 rule; flag when above 1).
 */
import { metrics, type Counts } from './twofold.js';

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations; eigenvalues descending. */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((r) => [...r]);
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep += 1) {
    let off = 0;
    for (let p = 0; p < n; p += 1) for (let q = p + 1; q < n; q += 1) off += (a[p]?.[q] ?? 0) ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p += 1) {
      for (let q = p + 1; q < n; q += 1) {
        const apq = a[p]?.[q] ?? 0;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p]?.[p] ?? 0;
        const aqq = a[q]?.[q] ?? 0;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k += 1) {
          const akp = a[k]?.[p] ?? 0;
          const akq = a[k]?.[q] ?? 0;
          (a[k] as number[])[p] = c * akp - s * akq;
          (a[k] as number[])[q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k += 1) {
          const apk = a[p]?.[k] ?? 0;
          const aqk = a[q]?.[k] ?? 0;
          (a[p] as number[])[k] = c * apk - s * aqk;
          (a[q] as number[])[k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k += 1) {
          const vkp = v[k]?.[p] ?? 0;
          const vkq = v[k]?.[q] ?? 0;
          (v[k] as number[])[p] = c * vkp - s * vkq;
          (v[k] as number[])[q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => (a[y]?.[y] ?? 0) - (a[x]?.[x] ?? 0));
  return { values: order.map((i) => a[i]?.[i] ?? 0), vectors: order.map((i) => v.map((row) => row[i] ?? 0)) };
}

export interface PcaModel {
  readonly mean: number[];
  readonly sd: number[];
  /** Kept principal directions (unit vectors in standardised space) and their variances. */
  readonly components: number[][];
  readonly variances: number[];
  readonly t2Limit: number;
  readonly qLimit: number;
}

function standardised(m: Pick<PcaModel, 'mean' | 'sd'>, row: readonly number[]): number[] {
  return row.map((x, j) => (x - (m.mean[j] ?? 0)) / (m.sd[j] ?? 1));
}

function statistics(m: Omit<PcaModel, 't2Limit' | 'qLimit'>, row: readonly number[]): { t2: number; q: number } {
  const z = standardised(m, row);
  let t2 = 0;
  const residual = [...z];
  m.components.forEach((c, k) => {
    const t = c.reduce((acc, cj, j) => acc + cj * (z[j] ?? 0), 0);
    t2 += (t * t) / Math.max(1e-12, m.variances[k] ?? 1);
    c.forEach((cj, j) => (residual[j] = (residual[j] ?? 0) - t * cj));
  });
  return { t2, q: residual.reduce((acc, r) => acc + r * r, 0) };
}

export function fitPca(train: readonly (readonly number[])[], varianceShare = 0.9): PcaModel {
  const width = train[0]?.length ?? 0;
  const n = train.length;
  const mean = Array.from({ length: width }, (_, j) => train.reduce((a, r) => a + (r[j] ?? 0), 0) / n);
  const sd = mean.map((c, j) => Math.max(1e-9, Math.sqrt(train.reduce((a, r) => a + ((r[j] ?? 0) - c) ** 2, 0) / n)));
  const z = train.map((r) => standardised({ mean, sd }, r));
  const cov = Array.from({ length: width }, (_, i) => Array.from({ length: width }, (_, j) => z.reduce((a, r) => a + (r[i] ?? 0) * (r[j] ?? 0), 0) / Math.max(1, n - 1)));
  const { values, vectors } = symmetricEigen(cov);
  const total = values.reduce((a, b) => a + Math.max(0, b), 0);
  let k = 0;
  let explained = 0;
  while (k < width - 1 && explained < varianceShare * total) {
    explained += Math.max(0, values[k] ?? 0);
    k += 1;
  }
  const base = { mean, sd, components: vectors.slice(0, Math.max(1, k)), variances: values.slice(0, Math.max(1, k)) };
  let t2Limit = 0;
  let qLimit = 0;
  for (const r of train) {
    const s = statistics(base, r);
    t2Limit = Math.max(t2Limit, s.t2);
    qLimit = Math.max(qLimit, s.q);
  }
  return { ...base, t2Limit: Math.max(t2Limit, 1e-12), qLimit: Math.max(qLimit, 1e-12) };
}

/** max(T²/limit, Q/limit): above 1 is beyond everything the training rows did. */
export function pcaScore(m: PcaModel, row: readonly number[]): number {
  const s = statistics(m, row);
  return Math.max(s.t2 / m.t2Limit, s.q / m.qLimit);
}

export interface ScoredRows {
  /** Score per test row, and its label. */
  readonly scores: readonly number[];
  readonly labels: readonly number[];
}

export function countsAbove(files: readonly ScoredRows[], threshold: number): Counts {
  const c: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (const f of files) {
    f.scores.forEach((s, i) => {
      const flag = s > threshold;
      const label = f.labels[i] === 1;
      if (flag && label) c.tp += 1;
      else if (flag) c.fp += 1;
      else if (label) c.fn += 1;
      else c.tn += 1;
    });
  }
  return c;
}

/** Log-spaced thresholds from 0.05 to 50. */
export const SWEEP = Array.from({ length: 241 }, (_, k) => 0.05 * 10 ** (k / 80));

/** The threshold with the highest pooled F1 (an upper bound: it is chosen on the test rows' labels). */
export function bestThreshold(files: readonly ScoredRows[], grid: readonly number[] = SWEEP): { threshold: number; counts: Counts } {
  let best = { threshold: grid[0] ?? 1, counts: countsAbove(files, grid[0] ?? 1) };
  for (const t of grid) {
    const counts = countsAbove(files, t);
    if (metrics(counts).f1 > metrics(best.counts).f1) best = { threshold: t, counts };
  }
  return best;
}
