import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollingValues } from '../../src/inference/rolling.js';

/** The plain way: sort the last `limit` values every time. */
function reference(values: readonly number[], limit: number): { quantile: (q: number) => number; median: number } {
  const kept = values.filter(Number.isFinite).slice(-limit);
  const sorted = [...kept].sort((a, b) => a - b);
  const n = sorted.length;
  const mid = n >> 1;
  return {
    quantile: (q) => (n === 0 ? 0 : (sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0)),
    median: n === 0 ? Number.NaN : n % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2,
  };
}

describe('rolling values', () => {
  it('gives the same quantiles, median and sum as sorting the last values each time', () => {
    const value = fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 3 }), fc.constant(Number.NaN));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 200 }), fc.integer({ min: 1, max: 40 }), (values, limit) => {
        const rolling = new RollingValues(limit);
        values.forEach((v, i) => {
          rolling.push(v);
          const ref = reference(values.slice(0, i + 1), limit);
          // Equal values (0 and -0 among them) are interchangeable: compared by value.
          for (const q of [0, 0.5, 0.9, 0.95, 1]) expect(rolling.quantile(q) === ref.quantile(q)).toBe(true);
          const median = rolling.median();
          expect(median === ref.median || (Number.isNaN(median) && Number.isNaN(ref.median))).toBe(true);
        });
        const kept = values.filter(Number.isFinite).slice(-limit);
        expect(rolling.length).toBe(kept.length);
        expect(rolling.sum()).toBeCloseTo(kept.reduce((a, b) => a + b, 0), 3);
      }),
      { numRuns: 300 },
    );
  });
});
