import { describe, expect, it } from 'vitest';
import { BSM1_WEATHER, needData } from '../helpers/data.js';
import { simulate } from '../../src/sim/simulate.js';

const bsm1 = needData('BSM1 weather files', ...BSM1_WEATHER);

describe('determinism', () => {
  it.skipIf(!bsm1.present)(`gives identical series for the same seed and different ones for another${bsm1.note}`, () => {
    const run = (seed: number): Record<string, number[]> => simulate({ influent: 'dry', days: 0.5, seed, stabilise: false }).series.readings;
    const a = run(7), b = run(7), c = run(8);
    expect(Object.keys(a).length).toBeGreaterThanOrEqual(50);
    expect(a).toEqual(b);
    expect(a['aerobic/do']).not.toEqual(c['aerobic/do']);
  });

  it('calls the control callback every interval and obeys its DO setpoint', () => {
    const calls: number[] = [];
    const r = simulate({
      influent: 'const', days: 1, seed: 1, stabilise: false,
      control: (ctx) => { calls.push(ctx.t); return { do: 1 }; },
    });
    expect(calls.length).toBe(96);
    const dos = r.series.readings['aerobic/do']!.slice(-24);
    const mean = dos.reduce((s, v) => s + v, 0) / dos.length;
    expect(mean).toBeGreaterThan(0.8);
    expect(mean).toBeLessThan(1.2);
  });
});
