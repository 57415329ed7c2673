import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sensorChecksSchema } from '../../src/config/sections/models.js';
import type { SignalFeatures, StageWindow } from '../../src/contract/ports.js';
import { SensorChecks, type SensorCheckKind } from '../../src/inference/sensor-checks.js';
import { createRng } from '../../src/training/random.js';

const config = sensorChecksSchema.parse({ actuated: [] });
const DO = { stage: 'aerobic' as const, signal: 'do', periodSec: 60, min: 0, max: 12 };
const STEP = 300_000;

function window(i: number, f: SignalFeatures | undefined): StageWindow {
  return { stage: 'aerobic', start: i * STEP, end: (i + 1) * STEP, quality: f ? 1 : 0, signals: f ? { do: f } : {} };
}

/** Five noisy samples around `level` as the windows would summarise them. */
function noisy(rng: () => number, level: number, sigma = 0.05): SignalFeatures {
  const xs = Array.from({ length: 5 }, () => level + sigma * (rng() + rng() + rng() - 1.5) * 2);
  return { mean: xs.reduce((a, b) => a + b, 0) / 5, last: xs[4] ?? level, min: Math.min(...xs), max: Math.max(...xs), slope: 0, count: 5, filled: 0, stale: false, gappy: false };
}

const flat = (v: number): SignalFeatures => ({ mean: v, last: v, min: v, max: v, slope: 0, count: 5, filled: 0, stale: false, gappy: false });

function run(checks: SensorChecks, windows: (SignalFeatures | undefined)[], from = 0): SensorCheckKind[][] {
  return windows.map((f, i) => checks.update(window(from + i, f)).map((flag) => flag.check));
}

describe('sensor checks', () => {
  it('flags a stuck sensor once it has not moved for stuckPeriods, and not a signal that never moves', () => {
    const rng = createRng(1);
    const checks = new SensorChecks(config, [DO]);
    expect(run(checks, Array.from({ length: 12 }, () => noisy(rng, 2))).flat()).toEqual([]);
    expect(run(checks, [flat(2.01), flat(2.01)], 12)).toEqual([['stuck'], ['stuck']]);
    const idle = new SensorChecks(config, [DO]);
    expect(run(idle, Array.from({ length: 20 }, () => flat(0.5))).flat()).toEqual([]);
    // a reading held at the end of the measuring range is clipping
    expect(run(checks, [flat(12), flat(12)], 14).flat()).toEqual([]);
  });

  it('flags a spike that came back but not a step to a new level', () => {
    const rng = createRng(2);
    const checks = new SensorChecks(config, [DO]);
    run(checks, Array.from({ length: 12 }, () => noisy(rng, 2)));
    const spike = { ...noisy(rng, 2), max: 4, mean: 2.4 };
    expect(run(checks, [spike], 12)).toEqual([['spike']]);
    const step = { mean: 3, last: 4, min: 2, max: 4, slope: 24, count: 5, filled: 0, stale: false, gappy: false };
    expect(run(checks, [step], 13)).toEqual([[]]);
  });

  it('learns that a signal jumps by design (a backwash every third window) and stops calling it a spike', () => {
    const rng = createRng(5);
    const checks = new SensorChecks(config, [DO]);
    const cycle = (i: number): SignalFeatures => (i % 3 === 0 ? { ...noisy(rng, 2), max: 3.5, mean: 2.3 } : noisy(rng, 2));
    const flags = run(checks, Array.from({ length: 60 }, (_, i) => cycle(i)));
    expect(flags.slice(20).flat()).toEqual([]);
  });

  it('flags a mean out of its band only once it stayed out for outOfRangeSec', () => {
    const rng = createRng(3);
    const checks = new SensorChecks({ ...config, outOfRangeSec: 600 }, [DO], new Map([['aerobic.do', { min: 0.5, max: 3 }]]));
    run(checks, Array.from({ length: 8 }, () => noisy(rng, 2)));
    expect(run(checks, [noisy(rng, 5), noisy(rng, 5), noisy(rng, 5), noisy(rng, 2)], 8)).toEqual([[], ['out_of_range'], ['out_of_range'], []]);
  });

  it('flags a dropout of a signal it has seen', () => {
    const rng = createRng(4);
    const checks = new SensorChecks(config, [DO]);
    expect(run(checks, [undefined])).toEqual([[]]);
    run(checks, [noisy(rng, 2)], 1);
    expect(run(checks, [undefined, { ...noisy(rng, 2), stale: true }], 2)).toEqual([['dropout'], ['dropout']]);
  });

  it('stays quiet on healthy noisy signals at any level and noise (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0.5, max: 10, noNaN: true }), fc.double({ min: 0.001, max: 0.3, noNaN: true }), (seed, level, sigma) => {
        const rng = createRng(seed);
        const checks = new SensorChecks(config, [DO]);
        expect(run(checks, Array.from({ length: 60 }, () => noisy(rng, level, sigma))).flat()).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('always catches a stuck value after warm-up (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0.5, max: 10, noNaN: true }), (seed, level) => {
        const rng = createRng(seed);
        const checks = new SensorChecks(config, [DO]);
        run(checks, Array.from({ length: 10 }, () => noisy(rng, level)));
        expect(run(checks, [flat(level)], 10)).toEqual([['stuck']]);
      }),
      { numRuns: 60 },
    );
  });
});
