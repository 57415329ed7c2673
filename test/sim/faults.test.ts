import { describe, expect, it } from 'vitest';
import { BSM1_WEATHER, needData } from '../helpers/data.js';
import { applySensorFaults, parseScenario, processEffect, PROCESS_FAULTS, SENSOR_FAULTS } from '../../src/sim/faults.js';
import { simulate } from '../../src/sim/simulate.js';

const scenario = `
faults:
  - { kind: sensor_stuck, stage: aerobic, signal: do, start: 2h, end: 4h }
  - { kind: sensor_drift, stage: effluent, signal: nh4_n, start: 1h, end: 6h, magnitude: 5 }
  - { kind: sensor_bias, stage: anoxic, signal: no3_n, start: 1h, end: 3h, magnitude: 2 }
  - { kind: sensor_spike, stage: influent, signal: flow, start: 5h, end: 5.1h }
  - { kind: noise_burst, stage: aerobic, signal: mlss, start: 3h, end: 5h }
  - { kind: sensor_dropout, stage: effluent, signal: tss, start: 6h, end: 8h }
  - { kind: blower_failure, stage: aerobic, start: 8h, end: 10h, magnitude: 0.2 }
  - { kind: toxic_load, stage: influent, start: 10h, end: 11h }
  - { kind: shock_load, stage: influent, start: 11h, end: 12h }
  - { kind: nitrification_inhibition, stage: aerobic, start: 9h, end: 12h }
  - { kind: sludge_bulking, stage: secondary, start: 6h, end: 12h }
  - { kind: membrane_fouling, stage: membrane, start: 2h, end: 12h }
  - { kind: dosing_pump_failure, stage: phosphorus, start: 4h, end: 7h }
  - { kind: temperature_change, stage: aerobic, start: 6h, end: 12h, magnitude: -8, ramp: 2h }
`;

const bsm1 = needData('BSM1 weather files', ...BSM1_WEATHER);

describe('faults', () => {
  it.skipIf(!bsm1.present)(`parses every fault kind and writes its ground truth${bsm1.note}`, () => {
    const faults = parseScenario(scenario);
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set([...SENSOR_FAULTS, ...PROCESS_FAULTS]));
    const epochMs = Date.UTC(2025, 0, 1);
    const r = simulate({ influent: 'dry', days: 0.5, seed: 3, stabilise: false, faults, epochMs, sampleMin: 1 });
    expect(r.groundTruth).toHaveLength(faults.length);
    expect(r.groundTruth[0]).toEqual({ kind: 'sensor_stuck', stage: 'aerobic', signal: 'do', start: epochMs + 2 * 3_600_000, end: epochMs + 4 * 3_600_000 });
    const at = (key: string, hour: number): number => r.series.readings[key]![Math.round(hour * 60) - 1]!;
    // stuck: the same value through the window, moving outside it
    expect(at('aerobic/do', 2.5)).toBe(at('aerobic/do', 3.5));
    expect(at('aerobic/do', 4.5)).not.toBe(at('aerobic/do', 3.5));
    // dropout: no reading while active
    expect(Number.isNaN(at('effluent/tss', 7.5))).toBe(true);
    // dosing pump failure: pump state 0 while active
    expect(at('phosphorus/dosing_pump', 5)).toBe(0);
    expect(at('phosphorus/dosing_pump', 8)).toBe(1);
    // blower failure caps KLa5 at 20 % of 360 1/d
    expect(at('aerobic/kla', 9.5)).toBeLessThanOrEqual(72 * 1.1);
    // temperature change: 15 degC before, halfway down the 2 h ramp at 7 h, 7 degC after it
    for (const key of ['influent/temperature', 'aerobic/temperature', 'effluent/temperature']) {
      expect(at(key, 5.5)).toBeCloseTo(15, 0);
      expect(at(key, 7)).toBeCloseTo(11, 0);
      expect(at(key, 10)).toBeCloseTo(7, 0);
    }
  });

  it('slows both growth rates in colder water, as ASM1\'s temperature factors say', () => {
    const [cold] = parseScenario('faults:\n  - { kind: temperature_change, stage: aerobic, start: 1d, end: 30d, magnitude: -10, ramp: 2d }\n');
    if (!cold) throw new Error('no fault');
    expect(processEffect([cold], 0.5)).toMatchObject({ temperature: 15, muHFactor: 1, muAFactor: 1 });
    const half = processEffect([cold], 2);
    expect(half.temperature).toBeCloseTo(10, 9);
    // 15 -> 10 degC: muH from 4.24 to 3.0 /d, muA from 0.49 to 0.3 /d
    expect(half.muHFactor).toBeCloseTo(3 / 6 ** 0.5 / 3 ** 0.5, 6);
    expect(half.muAFactor).toBeCloseTo(0.3 / Math.sqrt(0.3 * 0.8), 6);
    expect(processEffect([cold], 10).temperature).toBeCloseTo(5, 9);
    expect(processEffect([cold], 31).temperature).toBe(15);
  });

  it('rejects a sensor fault without a signal', () => {
    expect(() => parseScenario('faults:\n  - { kind: sensor_bias, stage: aerobic, start: 1, end: 2 }\n')).toThrow();
  });
});

describe('stuck sensor faults', () => {
  it('holds a value through each of two stuck faults on one signal and lets go between them', () => {
    const faults = parseScenario(`
faults:
  - { kind: sensor_stuck, stage: aerobic, signal: do, start: 1h, end: 2h }
  - { kind: sensor_stuck, stage: aerobic, signal: do, start: 3h, end: 4h }
`);
    const stuck = new Map<string, number>();
    const read = (hour: number, value: number): number | undefined => applySensorFaults(faults, 'aerobic/do', hour / 24, value, 4, () => 0, stuck);
    expect(read(0.5, 1)).toBe(1);
    expect(read(1.1, 2)).toBe(2);
    expect(read(1.9, 3)).toBe(2);
    expect(read(2.5, 4)).toBe(4);
    expect(read(3.1, 5)).toBe(5);
    expect(read(3.9, 6)).toBe(5);
    expect(read(4.5, 7)).toBe(7);
  });
});
