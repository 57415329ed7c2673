import { describe, expect, it } from 'vitest';
import { signalFeatures, slopePerHour } from '../../src/windows/index.js';

const rules = { maxGapPeriods: 3, staleAfterPeriods: 5 };
const P = 60_000;
const window = { start: 0, end: 10 * P, asOf: 10 * P };

describe('signalFeatures', () => {
  it('takes mean, last, min, max, slope and count of regular readings', () => {
    const readings = Array.from({ length: 10 }, (_, i) => ({ ts: i * P, value: i }));
    const f = signalFeatures({ periodMs: P, carry: undefined, readings }, window, rules);
    expect(f).toMatchObject({ mean: 4.5, last: 9, min: 0, max: 9, count: 10, filled: 0, stale: false, gappy: false });
    expect(f?.slope).toBeCloseTo(60, 9);
  });

  it('interpolates a gap of up to maxGapPeriods and leaves it out of count', () => {
    const readings = [0, 1, 2, 5, 6, 7, 8, 9].map((i) => ({ ts: i * P, value: i * 10 }));
    const f = signalFeatures({ periodMs: P, carry: undefined, readings }, window, rules);
    expect(f?.count).toBe(8);
    expect(f?.filled).toBe(2);
    expect(f?.gappy).toBe(false);
    expect(f?.mean).toBeCloseTo(45, 10);
  });

  it('marks a longer gap gappy and does not fill it', () => {
    const readings = [0, 1, 6, 7, 8, 9].map((i) => ({ ts: i * P, value: 1 }));
    const f = signalFeatures({ periodMs: P, carry: undefined, readings }, window, rules);
    expect(f?.gappy).toBe(true);
    expect(f?.filled).toBe(0);
  });

  it('tolerates timestamp jitter below half a period', () => {
    const readings = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ ts: i * P + (i % 2 ? 10_000 : -10_000) + 25_000, value: 1 }));
    const f = signalFeatures({ periodMs: P, carry: undefined, readings }, window, rules);
    expect(f).toMatchObject({ filled: 0, gappy: false, stale: false, count: 10 });
  });

  it('carries the last value across a short trailing gap and into an empty window', () => {
    const carry = { ts: -P, value: 7 };
    const empty = signalFeatures({ periodMs: 15 * P, carry, readings: [] }, window, rules);
    expect(empty).toEqual({ mean: 7, last: 7, min: 7, max: 7, slope: 0, count: 0, filled: 0, stale: false, gappy: false });
    const trailing = signalFeatures({ periodMs: P, carry: undefined, readings: [{ ts: 7 * P, value: 3 }] }, window, rules);
    expect(trailing).toMatchObject({ count: 1, filled: 2, gappy: false, mean: 3, last: 3 });
  });

  it('interpolates from the carried reading across the window start', () => {
    const carry = { ts: -P, value: 0 };
    const f = signalFeatures({ periodMs: P, carry, readings: [{ ts: 2 * P, value: 30 }] }, { start: 0, end: 3 * P, asOf: 3 * P }, rules);
    expect(f).toMatchObject({ count: 1, filled: 2, mean: 20, min: 10, max: 30 });
  });

  it('marks a signal stale after staleAfterPeriods without readings', () => {
    const f = signalFeatures({ periodMs: P, carry: { ts: -6 * P, value: 2 }, readings: [] }, { start: 0, end: P, asOf: P }, rules);
    expect(f).toMatchObject({ stale: true, gappy: true, count: 0, mean: 2 });
  });

  it('returns undefined for a signal that never reported', () => {
    expect(signalFeatures({ periodMs: P, carry: undefined, readings: [] }, window, rules)).toBeUndefined();
  });
});

describe('slopePerHour', () => {
  it('is the least-squares slope in units per hour and 0 for a single point', () => {
    expect(slopePerHour([{ ts: 0, value: 1 }, { ts: 1_800_000, value: 2 }, { ts: 3_600_000, value: 3 }], 0)).toBeCloseTo(2, 12);
    expect(slopePerHour([{ ts: 5, value: 1 }], 0)).toBe(0);
  });
});
