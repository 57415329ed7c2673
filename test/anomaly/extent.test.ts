import { describe, expect, it } from 'vitest';
import { maxOf, minOf } from '../../src/lib/extent.js';

describe('maxOf / minOf', () => {
  it('answer as Math.max / Math.min do, for a year of minute values without overflowing the stack', () => {
    const year = Float64Array.from({ length: 525_600 }, (_, i) => Math.sin(i / 1000) * (i + 1));
    expect(() => Math.max(...year)).toThrow(RangeError);
    let max = -Infinity;
    let min = Infinity;
    for (const v of year) {
      max = v > max ? v : max;
      min = v < min ? v : min;
    }
    expect(maxOf(year)).toBe(max);
    expect(minOf(year)).toBe(min);
    expect(maxOf([3, Number.NaN, 5])).toBeNaN();
    expect(maxOf([])).toBe(Math.max());
    expect(minOf([])).toBe(Math.min());
  });
});
