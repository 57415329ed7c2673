import { describe, expect, it } from 'vitest';
import { chooseMargin, countsAt, metrics, twoFold, type ScoredFile } from '../../eval/skab/twofold.js';

const rule = { persistence: 1, hold: 0, firstTestRow: 2 };

/** Two training rows, then a normal stretch at `quiet` and an anomalous one at `loud`. */
function file(name: string, quiet: number, loud: number): ScoredFile {
  return { name, base: 1, scores: [1, 1, quiet, quiet, loud, loud], labels: [0, 0, 0, 0, 1, 1] };
}

describe('two-fold margin check', () => {
  it('counts test rows only, at base x margin', () => {
    const f = file('a', 1.5, 3);
    expect(countsAt(f, 1, rule)).toEqual({ tp: 2, fp: 2, fn: 0, tn: 0 });
    expect(countsAt(f, 2, rule)).toEqual({ tp: 2, fp: 0, fn: 0, tn: 2 });
    expect(countsAt(f, 4, rule)).toEqual({ tp: 0, fp: 0, fn: 2, tn: 2 });
    expect(metrics({ tp: 2, fp: 0, fn: 2, tn: 2 }).f1).toBeCloseTo(2 / 3, 9);
  });

  it('chooses the best F1 within the false-alarm limit, else the lowest false-alarm rate', () => {
    const files = [file('a', 1.5, 3), file('b', 1.2, 2.5)];
    expect(chooseMargin(files, rule, 10, [1, 1.4, 1.6, 2.6])).toBe(1.6);
    expect(chooseMargin([file('c', 5, 5)], rule, 10, [1, 2, 3])).toBe(1);
  });

  it('applies each half\'s margin to the other half and pools the held-out counts', () => {
    // even files need a margin above 2 to stay quiet; odd files lose their anomaly above 2
    const files = [file('a', 2.5, 4), file('b', 1.1, 1.9), file('c', 2.5, 4), file('d', 1.1, 1.9)];
    const { folds, pooled } = twoFold(files, rule);
    expect(folds.map((f) => f.margin)).toEqual([2.5, 1.1]);
    expect(folds[0]?.heldOut).toEqual({ tp: 0, fp: 0, fn: 4, tn: 4 });
    expect(folds[1]?.heldOut).toEqual({ tp: 4, fp: 4, fn: 0, tn: 0 });
    expect(pooled).toEqual({ tp: 4, fp: 4, fn: 4, tn: 4 });
  });
});
