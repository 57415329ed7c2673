import { describe, expect, it } from 'vitest';
import { bestThreshold, countsAbove, fitPca, pcaScore, symmetricEigen } from '../../eval/skab/pca.js';
import { createRng } from '../../src/training/random.js';

describe('PCA T² + Q baseline', () => {
  it('decomposes a symmetric matrix into descending eigenvalues with unit eigenvectors', () => {
    const { values, vectors } = symmetricEigen([[2, 1], [1, 2]]);
    expect(values[0]).toBeCloseTo(3, 9);
    expect(values[1]).toBeCloseTo(1, 9);
    expect(Math.abs(vectors[0]?.[0] ?? 0)).toBeCloseTo(Math.SQRT1_2, 9);
    expect((vectors[0]?.[0] ?? 0) * (vectors[0]?.[1] ?? 0)).toBeGreaterThan(0);
  });

  it('scores a broken correlation by Q and a large excursion along it by T², both above the training limits', () => {
    const rng = createRng(5);
    const train = Array.from({ length: 400 }, () => {
      const a = rng() - 0.5;
      return [a + 0.01 * (rng() - 0.5), 2 * a + 0.01 * (rng() - 0.5), 0.5 * (rng() - 0.5)];
    });
    const model = fitPca(train, 0.9);
    expect(model.components).toHaveLength(2);
    expect(Math.max(...train.map((r) => pcaScore(model, r)))).toBeCloseTo(1, 9);
    expect(pcaScore(model, [0.3, -0.6, 0])).toBeGreaterThan(10); // off the a / 2a line: Q
    expect(pcaScore(model, [3, 6, 0])).toBeGreaterThan(10); // along it, far out: T²
    expect(pcaScore(model, [0.1, 0.2, 0.1])).toBeLessThan(1);
  });

  it('counts rows above a threshold and finds the best one on the labels', () => {
    const files = [{ scores: [0.5, 0.8, 2, 3], labels: [0, 0, 1, 1] }];
    expect(countsAbove(files, 1)).toEqual({ tp: 2, fp: 0, fn: 0, tn: 2 });
    expect(countsAbove(files, 0.6)).toEqual({ tp: 2, fp: 1, fn: 0, tn: 1 });
    const best = bestThreshold(files, [0.1, 0.6, 1, 2.5]);
    expect(best.threshold).toBe(1);
  });
});
