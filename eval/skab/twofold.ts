/**
 * Two-fold check of the threshold margin: the margin is chosen on half of the files and applied to the
 * other half, and vice versa, so the held-out figures show how much of the all-files result is tuning.
 */
import { heldFlags, persistentFlags } from '../../src/anomaly/postprocess.js';

export interface Counts { tp: number; fp: number; fn: number; tn: number }

/** One scored file: smoothed scores of every row, the margin-free threshold base and the labels. */
export interface ScoredFile {
  readonly name: string;
  /** threshold / margin, i.e. the training statistic the margin multiplies. */
  readonly base: number;
  readonly scores: readonly number[];
  readonly labels: readonly number[];
}

export interface DecisionRule {
  readonly persistence: number;
  readonly hold: number;
  /** Rows before this index are training rows and are not counted. */
  readonly firstTestRow: number;
}

export function emptyCounts(): Counts {
  return { tp: 0, fp: 0, fn: 0, tn: 0 };
}

export function addCounts(a: Counts, b: Counts): Counts {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

export function metrics(c: Counts): { f1: number; far: number; mar: number } {
  return {
    f1: (2 * c.tp) / Math.max(1, 2 * c.tp + c.fp + c.fn),
    far: (c.fp / Math.max(1, c.fp + c.tn)) * 100,
    mar: (c.fn / Math.max(1, c.fn + c.tp)) * 100,
  };
}

/** Point-wise confusion counts of one file's test rows at threshold base x margin. */
export function countsAt(file: ScoredFile, margin: number, rule: DecisionRule): Counts {
  const flags = heldFlags(persistentFlags(file.scores, file.base * margin, rule.persistence), rule.hold);
  const c = emptyCounts();
  for (let i = rule.firstTestRow; i < file.labels.length; i += 1) {
    const label = file.labels[i] === 1;
    const flag = flags[i] === true;
    if (flag && label) c.tp += 1;
    else if (flag) c.fp += 1;
    else if (label) c.fn += 1;
    else c.tn += 1;
  }
  return c;
}

export function pooledCounts(files: readonly ScoredFile[], margin: number, rule: DecisionRule): Counts {
  return files.reduce((sum, f) => addCounts(sum, countsAt(f, margin, rule)), emptyCounts());
}

/** Margins 1.0, 1.1, ... 4.0: a coarse grid, as an operator would set it. */
export const MARGIN_GRID = Array.from({ length: 31 }, (_, k) => Math.round((1 + 0.1 * k) * 10) / 10);

/** The grid margin with the highest F1 at FAR <= maxFar on these files (the lowest FAR when none qualifies). */
export function chooseMargin(files: readonly ScoredFile[], rule: DecisionRule, maxFar = 10, grid: readonly number[] = MARGIN_GRID): number {
  let best: { margin: number; f1: number; far: number } | undefined;
  for (const margin of grid) {
    const { f1, far } = metrics(pooledCounts(files, margin, rule));
    const ok = far <= maxFar;
    const bestOk = best !== undefined && best.far <= maxFar;
    if (best === undefined || (ok && (!bestOk || f1 > best.f1)) || (!ok && !bestOk && far < best.far)) best = { margin, f1, far };
  }
  return best?.margin ?? 1;
}

export interface FoldResult {
  readonly tunedOn: string;
  readonly margin: number;
  readonly heldOut: Counts;
}

/** Folds: files at even and at odd positions of the sorted list (each mixes valve and other faults). */
export function twoFold(files: readonly ScoredFile[], rule: DecisionRule, maxFar = 10): { folds: FoldResult[]; pooled: Counts } {
  const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)];
  const names = ['even-position files', 'odd-position files'];
  const folds = [0, 1].map((k) => {
    const tune = halves[k] ?? [];
    const test = halves[1 - k] ?? [];
    const margin = chooseMargin(tune, rule, maxFar);
    return { tunedOn: names[k] ?? '', margin, heldOut: pooledCounts(test, margin, rule) };
  });
  return { folds, pooled: folds.reduce((sum, f) => addCounts(sum, f.heldOut), emptyCounts()) };
}
