import { describe, expect, it } from 'vitest';
import { sensorChecksSchema } from '../../src/config/sections/models.js';
import type { PlantWindow, SignalFeatures } from '../../src/contract/ports.js';
import { LevelShifts } from '../../src/inference/level-shift.js';

const { levelShifts } = sensorChecksSchema.parse({});
const WINDOW = 300_000;
const feature = (mean: number, max = mean): SignalFeatures => ({ mean, last: mean, min: 0, max, slope: 0, count: 5, filled: 0, stale: false, gappy: false });
/**
 * One membrane window: the TMP's peak (end of a filtration cycle) and the filtration flux; a backwash
 * taking `backwashShare` of the window stops the permeate for that share and lowers the mean flux.
 */
const plant = (k: number, peakTmp: number, flux: number, backwashShare = 0): PlantWindow => ({
  start: (k - 1) * WINDOW,
  end: k * WINDOW,
  stages: { membrane: { stage: 'membrane', start: (k - 1) * WINDOW, end: k * WINDOW, quality: 1, signals: { tmp: feature(peakTmp * 0.7, peakTmp), flux: feature(flux * (1 - backwashShare), flux) } } },
});
/** A small deterministic scatter, as the backwash cycle's sampling gives. */
const wobble = (k: number): number => 1 + 0.02 * Math.sin(k * 1.7);

describe('level shift (membrane fouling)', () => {
  it('is quiet on a healthy membrane, while flux swings through the day', () => {
    const check = new LevelShifts(levelShifts);
    for (let k = 1; k <= 200; k += 1) {
      const flux = 20 + 8 * Math.sin((2 * Math.PI * k) / 288);
      expect(check.update(plant(k, 0.65 * flux * wobble(k), flux))).toEqual([]);
    }
  });

  it('flags peak TMP per flux rising 40 % under steady flux within the confirmation time', () => {
    const check = new LevelShifts(levelShifts);
    for (let k = 1; k <= 40; k += 1) expect(check.update(plant(k, 0.65 * 20 * wobble(k), 20))).toEqual([]);
    const flagged: number[] = [];
    for (let k = 41; k <= 50; k += 1) if (check.update(plant(k, 0.92 * 20 * wobble(k), 20)).length > 0) flagged.push(k);
    expect(flagged[0]).toBe(42);
    const [flag] = check.update(plant(51, 0.92 * 20, 20));
    expect(flag).toMatchObject({ stage: 'membrane', signal: 'tmp', check: 'shift' });
    expect(flag?.message).toMatch(/membrane_fouling: membrane\.tmp max per membrane\.flux max 0\.9\d+, 4\d % above its level of 0\.6\d+ while membrane\.flux did not rise/);
  });

  it('is quiet when the backwashes come more often (a backwash in more windows lowers their mean flux, not the peak)', () => {
    const check = new LevelShifts(levelShifts);
    // A backwash every 25 min, then every 10 min (the backwash-interval loop shortened it): every second window holds one.
    for (let k = 1; k <= 40; k += 1) expect(check.update(plant(k, 0.65 * 20 * wobble(k), 20, k % 5 === 0 ? 0.2 : 0))).toEqual([]);
    for (let k = 41; k <= 70; k += 1) expect(check.update(plant(k, 0.65 * 20 * wobble(k), 20, k % 2 === 0 ? 0.2 : 0))).toEqual([]);
    // Per mean flux the same windows read as a 10-25 % rise: the check would follow the backwash rhythm.
    const perMean = new LevelShifts(levelShifts.map((s) => ({ ...s, perFeature: 'mean' as const })));
    const flagged = Array.from({ length: 70 }, (_, i) => i + 1).filter((k) => perMean.update(plant(k, 0.65 * 20 * wobble(k), 20, (k <= 40 ? k % 5 === 0 : k % 2 === 0) ? 0.2 : 0)).length > 0);
    expect(flagged.length).toBeGreaterThan(0);
  });

  it('does not flag the same rise while the flux stands well above its usual level (a storm)', () => {
    const check = new LevelShifts(levelShifts);
    for (let k = 1; k <= 80; k += 1) check.update(plant(k, 0.65 * 20 * wobble(k), 20));
    for (let k = 81; k <= 90; k += 1) expect(check.update(plant(k, 0.92 * 40 * wobble(k), 40))).toEqual([]);
  });

  it('waits for a full baseline and does not flag within the scatter of a noisy baseline', () => {
    const quiet = new LevelShifts(levelShifts);
    for (let k = 1; k <= 20; k += 1) quiet.update(plant(k, 13, 20));
    expect(quiet.update(plant(21, 30, 20))).toEqual([]);
    const noisy = new LevelShifts(levelShifts);
    // Peaks scattered +-30 % (a long backwash cycle sampled at varying phases): a 20 % rise is within it.
    for (let k = 1; k <= 40; k += 1) noisy.update(plant(k, 13 * (1 + 0.3 * Math.sin(k * 2.1)), 20));
    for (let k = 41; k <= 44; k += 1) expect(noisy.update(plant(k, 13 * 1.2, 20))).toEqual([]);
  });
});
