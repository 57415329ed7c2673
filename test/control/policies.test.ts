import { describe, expect, it } from 'vitest';
import {
  backwashIntervalPolicy,
  carbonDosePolicy,
  coagulantDosePolicy,
  doPolicy,
  internalRecyclePolicy,
  wasFlowPolicy,
  type PolicyInput,
} from '../../src/control/policies/index.js';
import type { PlantWindow } from '../../src/contract/ports.js';
import { healthyPlant, steady } from './helpers.js';

function input<S>(plant: PlantWindow, bounds: { min: number; max: number }, extra: Partial<PolicyInput<S>> = {}): PolicyInput<S> {
  return { plant, params: {}, bounds, indicators: [], predictions: [], state: undefined, previous: undefined, dtHours: 0, ...extra };
}
const T = 1_700_000_000_000;

describe('control policies', () => {
  it('do: more ammonium asks for more oxygen, and the integral remembers a standing error', () => {
    const low = doPolicy.propose(input(healthyPlant(T, { 'aerobic/nh4_n': steady(0.5) }), { min: 0.5, max: 3 }));
    const high = doPolicy.propose(input(healthyPlant(T, { 'aerobic/nh4_n': steady(4) }), { min: 0.5, max: 3 }));
    expect(high.value).toBeGreaterThan(low.value);
    const later = doPolicy.propose(input(healthyPlant(T, { 'aerobic/nh4_n': steady(4) }), { min: 0.5, max: 3 }, { state: high.state, dtHours: 1 }));
    expect(later.state.integral).toBeGreaterThan(high.state.integral);
    expect(later.value).toBeGreaterThan(high.value);
  });

  it('do: a heavier influent ammonium load feeds forward', () => {
    const base = doPolicy.propose(input(healthyPlant(T), { min: 0.5, max: 3 }));
    const loaded = doPolicy.propose(input(healthyPlant(T, { 'influent/flow': steady(30000) }), { min: 0.5, max: 3 }));
    expect(loaded.value).toBeGreaterThan(base.value);
    expect(loaded.inputs['influentNh4Load']).toBeCloseTo((30000 * 31.56) / 1000);
  });

  it('do: a predicted NH4-N replaces the load feed-forward and names its model', () => {
    const predictions = [{ stage: 'effluent' as const, signal: 'nh4_n', ts: T, horizonMin: 60, value: 5, unit: 'mg/L', model: 'nh4@3' }];
    const r = doPolicy.propose(input(healthyPlant(T), { min: 0.5, max: 3 }, { predictions }));
    expect(r.model).toBe('nh4@3');
    expect(r.inputs['predictedNh4']).toBe(5);
  });

  it('do: with a what-if model, the lowest DO meeting the NH4-N target wins', () => {
    // Predicted NH4-N falls with DO: 4 - DO mg/L; target 1.5 -> first grid point with 4 - DO <= 1.5 is 2.5.
    const r = doPolicy.propose(input(healthyPlant(T), { min: 0.5, max: 3 }, { params: { nh4Target: 1.5 }, predict: (c) => 4 - c }));
    expect(r.value).toBeCloseTo(2.5);
    expect(r.reason).toContain('predicted');
  });

  it('internal recycle: nitrate below target recycles more, above target less', () => {
    const b = { min: 5000, max: 92230 };
    const under = internalRecyclePolicy.propose(input(healthyPlant(T, { 'anoxic/no3_n': steady(0.2) }), b));
    const over = internalRecyclePolicy.propose(input(healthyPlant(T, { 'anoxic/no3_n': steady(3) }), b));
    expect(under.value).toBeGreaterThan(over.value);
  });

  it('carbon dose: nothing while the influent C/N suffices; nitrate surplus with low C/N doses', () => {
    const b = { min: 0, max: 5 };
    const rich = carbonDosePolicy.propose(input(healthyPlant(T, { 'anoxic/no3_n': steady(4), 'influent/cod': steady(800) }), b));
    expect(rich.value).toBe(0);
    const poor = carbonDosePolicy.propose(input(healthyPlant(T, { 'anoxic/no3_n': steady(4), 'influent/cod': steady(300) }), b, { params: { no3Target: 1 } }));
    // 3 mg/L surplus x (18446 + 55338) m3/d x 5 g COD/g N / 400 kg COD/m3.
    expect(poor.value).toBeCloseTo((3 * (18446 + 55338) * 5) / 400000, 6);
  });

  it('coagulant dose: molar Me:P ratio on the phosphate above the residual', () => {
    const r = coagulantDosePolicy.propose(input(healthyPlant(T, { 'phosphorus/po4_p': steady(3.3) }), { min: 0, max: 30 }));
    expect(r.value).toBeCloseTo((1.5 * 3 * 55.85) / 30.97, 6);
    const trimmed = coagulantDosePolicy.propose(input(healthyPlant(T, { 'phosphorus/po4_p': steady(3.3), 'effluent/tp': steady(2) }), { min: 0, max: 30 }, { state: r.state, dtHours: 1 }));
    expect(trimmed.value).toBeGreaterThan(r.value);
  });

  it('backwash interval: faster TMP rise while filtering, shorter interval; no rise, the longest; whole minutes', () => {
    const b = { min: 5, max: 60 };
    const slow = backwashIntervalPolicy.propose(input(healthyPlant(T, { 'membrane/tmp': steady(20, { slope: 6 }) }), b));
    const fast = backwashIntervalPolicy.propose(input(healthyPlant(T, { 'membrane/tmp': steady(20, { slope: 21 }) }), b));
    const flat = backwashIntervalPolicy.propose(input(healthyPlant(T, { 'membrane/tmp': steady(20, { slope: -1 }) }), b));
    // base 15 min x reference 12 kPa/h / rise rate
    expect(slow.value).toBe(30);
    expect(fast.value).toBe(9);
    expect(flat.value).toBe(60);
  });

  it('backwash interval: the part of the TMP slope that the flux explains is not fouling', () => {
    const b = { min: 5, max: 60 };
    // TMP 20 kPa at 20 L/m2/h: a flux rising 6 L/m2/h per hour raises the TMP 6 kPa/h at constant resistance.
    const r = backwashIntervalPolicy.propose(input(healthyPlant(T, { 'membrane/tmp': steady(20, { slope: 12 }), 'membrane/flux': steady(20, { slope: 6 }) }), b));
    expect(r.inputs['riseRatePerHour']).toBeCloseTo(6, 9);
    expect(r.value).toBe(30);
  });

  it('backwash interval: a window with a backwash in it is not measured; the rate is filtered, and returns to the reference when nothing is measured', () => {
    const b = { min: 5, max: 60 };
    const filtering = (slope: number) => healthyPlant(T, { 'membrane/tmp': steady(20, { slope }), 'membrane/backwash': steady(0) });
    // The TMP drops to 0 during the backwash minute: the window's slope says where it fell, not how the membrane fouls.
    const backwashing = healthyPlant(T, { 'membrane/tmp': steady(16, { slope: -90, min: 0 }), 'membrane/backwash': steady(0.2, { min: 0, max: 1 }) });
    let r = backwashIntervalPolicy.propose(input(filtering(24), b));
    expect(r.value).toBe(8);
    const held = backwashIntervalPolicy.propose(input(backwashing, b, { state: r.state, dtHours: 5 / 60 }));
    expect(held.value).toBe(8);
    expect(held.state).toEqual({ riseRate: 24, unmeasured: 1 });
    // A backwash between two samples of the state signal still shows in the TMP's window minimum.
    const unseen = healthyPlant(T, { 'membrane/tmp': steady(16, { slope: -90, min: 0 }), 'membrane/backwash': steady(0) });
    expect(backwashIntervalPolicy.propose(input(unseen, b, { state: r.state, dtHours: 5 / 60 })).state).toEqual({ riseRate: 24, unmeasured: 1 });
    // A slower rate moves the estimate only by dt / filterHours (5 min / 4 h).
    const next = backwashIntervalPolicy.propose(input(filtering(0), b, { state: r.state, dtHours: 5 / 60 }));
    expect(next.state.riseRate).toBeCloseTo(24 * (1 - 1 / 48), 9);
    // At an interval as short as the window no window is free of a backwash: after holdWindows the estimate
    // drifts back to the reference rate (12 kPa/h), and the interval back towards baseInterval.
    for (let k = 0; k < 6 * 12 * 4; k += 1) r = backwashIntervalPolicy.propose(input(backwashing, b, { state: r.state, dtHours: 5 / 60 }));
    expect(r.state.unmeasured).toBe(6 * 12 * 4 + 0);
    expect(r.state.riseRate ?? 0).toBeLessThan(12.1);
    expect(r.value).toBe(15);
  });

  it('was flow: sludge mass over the SRT target, less effluent solids, over the return sludge TSS', () => {
    const params = { srtDays: 9 };
    const r = wasFlowPolicy.propose(input(healthyPlant(T), { min: 100, max: 1000 }, { params }));
    const expected = (((3300 * 5999) / 1000 / 9 - (18061 * 13) / 1000) * 1000) / 6400;
    expect(r.value).toBeCloseTo(expected, 6);
    // The filter moves only part way towards a new demand within one window.
    const next = wasFlowPolicy.propose(input(healthyPlant(T, { 'aerobic/mlss': steady(4000) }), { min: 100, max: 1000 }, { params, state: r.state, dtHours: 0.25 }));
    expect(next.value).toBeGreaterThan(r.value);
    expect(next.value).toBeLessThan((((4000 * 5999) / 1000 / 9 - (18061 * 13) / 1000) * 1000) / 6400);
  });
});
