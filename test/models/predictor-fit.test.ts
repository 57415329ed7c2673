import { describe, expect, it } from 'vitest';
import type { PlantWindow } from '../../src/contract/ports.js';
import { calendarValue, parsePlantInput, windowHistory } from '../../src/inference/features.js';
import { eligibilityOf, runTimeBlocks } from '../../src/models/train-predictors.js';
import { createRng } from '../../src/training/random.js';
import { fitRidge, fitRidgeSelected } from '../../src/training/ridge.js';

describe('predictor fitting', () => {
  it('ridge regression recovers the weights of a noisy linear plant, one solve for every output', () => {
    const rng = createRng(5);
    const z = Array.from({ length: 2000 }, () => [rng() * 2 - 1, rng() * 2 - 1, rng() * 2 - 1]);
    const y = z.map((r) => [2 * (r[0] ?? 0) - (r[2] ?? 0) + (rng() - 0.5) * 0.01, 0.5 * (r[1] ?? 0)]);
    const w = fitRidge(z, y, 1e-6);
    const expected = [2, 0, 0, 0.5, -1, 0];
    expected.forEach((v, i) => expect(w[i]).toBeCloseTo(v, 2));
  });

  it('chooses each target\'s penalty on the later block: light where the inputs carry the signal, strong (or none of them) where they only carry noise', () => {
    const rng = createRng(9);
    // 40 rows, 30 inputs: column 0 follows input 0; column 1 is noise the inputs cannot explain.
    const rows = (n: number): { z: number[][]; y: number[][] } => {
      const z = Array.from({ length: n }, () => Array.from({ length: 30 }, () => rng() * 2 - 1));
      return { z, y: z.map((r) => [3 * (r[0] ?? 0) + (rng() - 0.5) * 0.01, rng() - 0.5]) };
    };
    const selected = fitRidgeSelected(rows(40), rows(20));
    expect(selected.lambdas[0]).toBeLessThanOrEqual(1e-2);
    expect(selected.lambdas[1]).toBeGreaterThanOrEqual(1);
    expect(selected.w[0]).toBeCloseTo(3, 1);
    for (let j = 0; j < 30; j += 1) expect(Math.abs(selected.w[j * 2 + 1] ?? 0)).toBeLessThan(0.05);
    // Unpenalised, the noise column would have been fitted: 30 inputs on 60 rows leave large weights.
    const free = fitRidge([...rows(40).z], rows(40).y, 1e-6);
    expect(Math.max(...Array.from({ length: 30 }, (_, j) => Math.abs(free[j * 2 + 1] ?? 0)))).toBeGreaterThan(0.05);
  });

  it('a target is eligible only when it meets the bar at 1 h and at 4 h; its other horizons only when they beat persistence', () => {
    const e = eligibilityOf([
      { stage: 'aerobic', signal: 'no3_n', horizonMin: 15, mseSkill: -0.2 },
      { stage: 'aerobic', signal: 'no3_n', horizonMin: 60, mseSkill: 0.45 },
      { stage: 'aerobic', signal: 'no3_n', horizonMin: 240, mseSkill: 0.6 },
      { stage: 'aerobic', signal: 'nh4_n', horizonMin: 15, mseSkill: 0.5 },
      { stage: 'aerobic', signal: 'nh4_n', horizonMin: 60, mseSkill: 0.29 },
      { stage: 'aerobic', signal: 'nh4_n', horizonMin: 240, mseSkill: Number.NaN },
    ]);
    expect(Object.fromEntries(Object.entries(e.targets).map(([k, v]) => [k, v.eligible]))).toEqual({
      'aerobic.no3_n@+15m': false, 'aerobic.no3_n@+60m': true, 'aerobic.no3_n@+240m': true,
      'aerobic.nh4_n@+15m': false, 'aerobic.nh4_n@+60m': false, 'aerobic.nh4_n@+240m': false,
    });
    expect(e.targets['aerobic.nh4_n@+60m']?.reason).toBe('aerobic.nh4_n misses the bar: MSE skill over persistence 0.290 at 60 min, n/a at 240 min (needs 0.3 at 60 and 240 min) on the held-out block');
    expect(e.targets['aerobic.nh4_n@+240m']?.mseSkill).toBeNull();
  });

  it('splits each twin run in time: the first two thirds of its span, then the later block', () => {
    const run = (start: number, n: number): PlantWindow[] => Array.from({ length: n }, (_, i) => ({ start: start + i * 300_000 - 300_000, end: start + i * 300_000, stages: {} }));
    const windows = [...run(0, 31), ...run(10 * 86_400_000, 31)];
    const { first, later } = runTimeBlocks(windows, 1 / 3);
    expect(first.map((w) => w.end)).toEqual([...windows.slice(0, 20), ...windows.slice(31, 51)].map((w) => w.end));
    expect(later).toHaveLength(22);
  });

  it('reads history and calendar inputs; the week starts on Sunday 00:00 UTC', () => {
    expect(parsePlantInput({ stage: 'influent', signal: 'flow', feature: 'mean@-60m' })).toEqual({ stage: 'influent', signal: 'flow', feature: 'mean', horizonMin: 0, lagMin: 60 });
    expect(parsePlantInput({ stage: 'influent', signal: 'clock', feature: 'weekcos2' })?.calendar).toEqual({ period: 'week', fn: 'cos', harmonic: 2 });
    expect(parsePlantInput({ stage: 'influent', signal: 'flow', feature: 'weekcos2' })).toBeUndefined();
    const sunday = Date.UTC(2025, 0, 5);
    expect(calendarValue(sunday, { period: 'week', fn: 'sin', harmonic: 1 })).toBeCloseTo(0, 9);
    expect(calendarValue(sunday, { period: 'week', fn: 'cos', harmonic: 1 })).toBeCloseTo(1, 9);
    expect(calendarValue(sunday + 6 * 3_600_000, { period: 'day', fn: 'sin', harmonic: 1 })).toBeCloseTo(1, 9);
    expect(calendarValue(sunday + 42 * 3_600_000, { period: 'week', fn: 'cos', harmonic: 1 })).toBeCloseTo(Math.cos((2 * Math.PI * 42) / 168), 9);
  });

  it('history looks up to three slides further back when its window is missing, never forward', () => {
    const w = (end: number): PlantWindow => ({ start: end - 300_000, end, stages: {} });
    const byEnd = new Map([0, 300_000, 1_500_000].map((e) => [e, w(e)]));
    const history = windowHistory(byEnd, 300_000);
    expect(history(300_000)?.end).toBe(300_000);
    expect(history(1_200_000)?.end).toBe(300_000);
    expect(history(1_300_000)).toBeUndefined();
    expect(history(-300_000)).toBeUndefined();
  });
});
