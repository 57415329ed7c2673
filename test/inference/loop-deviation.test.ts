import { describe, expect, it } from 'vitest';
import { sensorChecksSchema } from '../../src/config/sections/models.js';
import type { PlantWindow, SignalFeatures } from '../../src/contract/ports.js';
import { SetpointHistory } from '../../src/control/setpoint-history.js';
import { LoopDeviations } from '../../src/inference/loop-deviation.js';

const { loopDeviations } = sensorChecksSchema.parse({});
const MIN = 60_000;
const WINDOW = 5 * MIN;
const feature = (mean: number, stale = false): SignalFeatures => ({ mean, last: mean, min: mean, max: mean, slope: 0, count: 5, filled: 0, stale, gappy: false });
/** The blowers' air flow swings between 1000 and 3000 m3/h through the day unless a test pins it. */
const airflowAt = (end: number): number => 2000 + 1000 * Math.sin(end / (37 * MIN));
const plant = (end: number, dissolvedOxygen: number, stale = false, airflow = airflowAt(end)): PlantWindow => ({
  start: end - WINDOW,
  end,
  stages: { aerobic: { stage: 'aerobic', start: end - WINDOW, end, quality: 1, signals: { do: feature(dissolvedOxygen, stale), airflow: feature(airflow) } } },
});

/** Control's side: one DO setpoint per window close, valid 15 min. */
function publishEvery(history: SetpointHistory, from: number, to: number, value: (t: number) => number): void {
  for (let t = from; t <= to; t += WINDOW) history.record('do', value(t), t, t + 15 * MIN);
}

describe('loop deviation', () => {
  it('is quiet while the DO follows its setpoint, steps of the setpoint included', () => {
    const history = new SetpointHistory();
    const check = new LoopDeviations(loopDeviations, history);
    // The setpoint steps 0.8 -> 1.3 -> 1.8; the DO reaches each step a window later.
    publishEvery(history, 0, 12 * WINDOW, (t) => (t < 4 * WINDOW ? 0.8 : t < 8 * WINDOW ? 1.3 : 1.8));
    for (let k = 1; k <= 12; k += 1) {
      const lagged = k <= 4 ? 0.8 : k <= 8 ? 1.3 : 1.8;
      expect(check.update(plant(k * WINDOW, lagged + 0.1))).toEqual([]);
    }
  });

  it('flags a DO probe reading 1.2 mg/L above every setpoint once it lasted forSec, and clears when it returns', () => {
    const history = new SetpointHistory();
    const check = new LoopDeviations(loopDeviations, history);
    publishEvery(history, 0, 60 * WINDOW, () => 1.0);
    // Judged once the settling time before a window is covered by setpoints and the air flow has a history.
    for (let k = 4; k <= 40; k += 1) expect(check.update(plant(k * WINDOW, 1.05, false, airflowAt(k * WINDOW)))).toEqual([]);
    expect(check.update(plant(41 * WINDOW, 2.2, false, 2000))).toEqual([]);
    const flags = check.update(plant(42 * WINDOW, 2.2, false, 2000));
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ stage: 'aerobic', signal: 'do', check: 'deviation' });
    expect(flags[0]?.message).toMatch(/loop do: aerobic\.do 2\.20 away from its setpoint 1\.00 by more than 0\.6/);
    expect(check.update(plant(43 * WINDOW, 0.3, false, 2000))).toHaveLength(1);
    // Back within the band: still flagged for clearSec (30 min), so the loop's own fallback step cannot
    // make it flicker; then clear.
    const back: number[] = [];
    for (let k = 44; k <= 52; k += 1) if (check.update(plant(k * WINDOW, 1.1, false, 2000)).length > 0) back.push(k);
    expect(back).toEqual([44, 45, 46, 47, 48]);
    expect(check.update(plant(44 * WINDOW + 9 * WINDOW, 1.1, false, 2000))).toEqual([]);
  });

  it('does not judge while the blowers sit at their lowest or highest air flow (capacity, not a fault)', () => {
    const history = new SetpointHistory();
    const check = new LoopDeviations(loopDeviations, history);
    publishEvery(history, 0, 60 * WINDOW, () => 0.5);
    // A day's worth of air flow between 1000 and 3000 teaches the limits.
    for (let k = 4; k <= 40; k += 1) check.update(plant(k * WINDOW, 0.5));
    // Night: minimum turndown, the DO stays 2 mg/L above a low setpoint.
    for (let k = 41; k <= 46; k += 1) expect(check.update(plant(k * WINDOW, 2.5, false, 1000))).toEqual([]);
    // Storm: full output, the DO falls below its setpoint.
    for (let k = 47; k <= 52; k += 1) expect(check.update(plant(k * WINDOW, 0.0, false, 3000))).toEqual([]);
    // No air flow reading: the loop's state is unknown, a deviation does not start.
    const blind: PlantWindow = { start: 52 * WINDOW, end: 53 * WINDOW, stages: { aerobic: { stage: 'aerobic', start: 52 * WINDOW, end: 53 * WINDOW, quality: 1, signals: { do: feature(2.5) } } } };
    expect(check.update(blind)).toEqual([]);
    // The same DO with the blowers in mid-range: the loop or its probe is wrong.
    check.update(plant(54 * WINDOW, 2.5, false, 2000));
    expect(check.update(plant(55 * WINDOW, 2.5, false, 2000)).map((f) => f.check)).toEqual(['deviation']);
    // Once under way it is followed even when the blowers then run to a limit (the fallback drives them there).
    expect(check.update(plant(56 * WINDOW, 2.5, false, 3000)).map((f) => f.check)).toEqual(['deviation']);
    expect(check.update(plant(57 * WINDOW, 0.5, false, 3000))[0]?.message).toMatch(/back within 0\.6 of its setpoint/);
  });

  it('does not judge without a valid setpoint all along, or without fresh readings', () => {
    const history = new SetpointHistory();
    const check = new LoopDeviations(loopDeviations, history);
    publishEvery(history, 0, 40 * WINDOW, () => 1.0);
    for (let k = 4; k <= 40; k += 1) check.update(plant(k * WINDOW, 1.0));
    // The daemon stops publishing (last setpoint at window 40, valid 15 min): once its validity has run
    // out the PLC runs on its own setpoint, which the daemon does not know.
    for (let k = 41; k <= 43; k += 1) check.update(plant(k * WINDOW, 3, false, 2000));
    for (let k = 44; k <= 50; k += 1) expect(check.update(plant(k * WINDOW, 3, false, 2000))).toEqual([]);
    publishEvery(history, 51 * WINDOW, 70 * WINDOW, () => 1.0);
    for (let k = 55; k <= 58; k += 1) expect(check.update(plant(k * WINDOW, 3, true, 2000))).toEqual([]);
    // The same windows with fresh readings are flagged: what held it back was the stale value.
    expect(check.update(plant(59 * WINDOW, 3, false, 2000))).toEqual([]);
    expect(check.update(plant(60 * WINDOW, 3, false, 2000)).map((f) => f.check)).toEqual(['deviation']);
    expect(new LoopDeviations(loopDeviations, undefined).update(plant(20 * WINDOW, 5))).toEqual([]);
  });
});

describe('setpoint history', () => {
  it('gives the lowest and highest setpoint in effect over a span, the one before it included', () => {
    const history = new SetpointHistory();
    history.record('do', 1.0, 0, 15 * MIN);
    history.record('do', 1.5, 5 * MIN, 20 * MIN);
    history.record('do', 0.5, 10 * MIN, 25 * MIN);
    expect(history.range('do', 2 * MIN, 4 * MIN)).toEqual({ min: 1.0, max: 1.0 });
    expect(history.range('do', 2 * MIN, 7 * MIN)).toEqual({ min: 1.0, max: 1.5 });
    expect(history.range('do', 6 * MIN, 12 * MIN)).toEqual({ min: 0.5, max: 1.5 });
    // Before the first setpoint, after the last one's validity, and for a loop never published: unknown.
    expect(history.range('do', -MIN, 2 * MIN)).toBeUndefined();
    expect(history.range('do', 20 * MIN, 30 * MIN)).toBeUndefined();
    expect(history.range('was_flow', 0, MIN)).toBeUndefined();
  });

  it('treats a gap in validity as unknown and ignores setpoints older than the newest', () => {
    const history = new SetpointHistory();
    history.record('do', 1.0, 0, 5 * MIN);
    history.record('do', 2.0, 10 * MIN, 25 * MIN);
    expect(history.range('do', MIN, 12 * MIN)).toBeUndefined();
    history.record('do', 9.0, 8 * MIN, 30 * MIN);
    expect(history.range('do', 11 * MIN, 12 * MIN)).toEqual({ min: 2.0, max: 2.0 });
  });
});
