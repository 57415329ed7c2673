import { describe, expect, it } from 'vitest';
import { aggregateScores, driftToNoise, ewmaRows, heldFlags, residualRms } from '../../src/anomaly/postprocess.js';
import { keptColumns } from '../../src/anomaly/fit.js';
import { createRng } from '../../src/training/random.js';

describe('detector post-processing', () => {
  it('EWMA starts at the first row and follows a step with alpha 2/(window+1)', () => {
    const out = ewmaRows([[1], [1], [4], [4]], 2);
    expect(out.map((r) => r[0])).toEqual([1, 1, 3, 11 / 3]);
    expect(ewmaRows([[5, 6]], 1)).toEqual([[5, 6]]);
  });

  it('holds a raised flag for the off-delay, then clears', () => {
    expect(heldFlags([false, true, false, false, false, true], 2)).toEqual([false, true, true, true, false, true]);
    expect(heldFlags([true, false], 0)).toEqual([true, false]);
  });

  it('max aggregate judges each input against its own training residual; ensemble adds standard scores', () => {
    const squaredError = [0.04, 4, 1, 0.01];
    const standardized = [5, 0, 0.5, 0.5];
    const sum = aggregateScores({ squaredError, standardized }, 2, { inputWindow: 1, scoreWindow: 1, persistence: 1, thresholdQuantile: 1, thresholdMargin: 1 });
    expect(sum[0]).toBeCloseTo(4.04, 6);
    const post = { inputWindow: 1, scoreWindow: 1, persistence: 1, thresholdQuantile: 1, thresholdMargin: 1, residualScale: [0.1, 2] };
    const max = aggregateScores({ squaredError, standardized }, 2, { ...post, aggregate: 'max' });
    expect(max[0]).toBeCloseTo(2, 6);
    expect(max[1]).toBeCloseTo(10, 6);
    const ensemble = aggregateScores({ squaredError, standardized }, 2, { ...post, aggregate: 'ensemble', residualWeight: 0.1 });
    expect(ensemble[0]).toBeCloseTo(5, 6);
    expect(ensemble[1]).toBeCloseTo(1, 6);
    expect(residualRms([0, 4, 0, 0], 2)).toEqual([1e-3, Math.SQRT2]);
  });

  it('tells a drifting level from a noisy or once-stepped one and leaves only the drifting one out', () => {
    const rng = createRng(3);
    const raw = Array.from({ length: 300 }, (_, i) => [20 + 0.01 * i + 0.01 * (rng() - 0.5), 5 + (rng() - 0.5), 32 + (i > 150 ? 1 : 0) + Math.round(2 * (rng() - 0.5))]);
    const smoothed = ewmaRows(raw, 39).slice(38);
    const ratio = [0, 1, 2].map((j) => driftToNoise(smoothed.map((r) => r[j] ?? 0), raw.map((r) => r[j] ?? 0)));
    expect(ratio[0]).toBeGreaterThan(30);
    expect(ratio[1]).toBeLessThan(1);
    expect(ratio[2]).toBeLessThan(3);
    expect(keptColumns(smoothed, raw, 3)).toEqual([1, 2]);
    expect(keptColumns(smoothed, raw, Number.POSITIVE_INFINITY)).toEqual([0, 1, 2]);
    expect(keptColumns(smoothed.map((r) => [r[0] ?? 0]), raw.map((r) => [r[0] ?? 0]), 3)).toEqual([0]);
  });
});
