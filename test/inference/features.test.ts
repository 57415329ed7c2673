import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildInputVector, parsePlantInput, type PlantInput } from '../../src/inference/features.js';
import { features, plantWindow } from './helpers.js';

const input = (signal: string, feature: PlantInput['feature'] = 'mean'): PlantInput => ({ stage: 'aerobic', signal, feature, horizonMin: 0, lagMin: 0 });

describe('feature vector', () => {
  it('parses plant inputs and target horizons, and refuses CSV columns and unknown features', () => {
    expect(parsePlantInput({ stage: 'effluent', signal: 'tn', feature: 'mean@+15m' })).toEqual({ stage: 'effluent', signal: 'tn', feature: 'mean', horizonMin: 15, lagMin: 0 });
    expect(parsePlantInput({ stage: 'aerobic', signal: 'do', feature: 'range' })?.feature).toBe('range');
    expect(parsePlantInput('Accelerometer1RMS')).toBeUndefined();
    expect(parsePlantInput({ stage: 'aerobic', signal: 'do', feature: 'median' })).toBeUndefined();
    expect(parsePlantInput({ stage: 'tank9', signal: 'do', feature: 'mean' })).toBeUndefined();
  });

  it('builds the row in manifest order', () => {
    const w = plantWindow(600_000, { aerobic: { do: features(2, { min: 1.5, max: 2.5 }), no3_n: features(9) } });
    const v = buildInputVector(w, [input('no3_n'), input('do', 'range'), input('do')]);
    expect(v.ok && Array.from(v.values)).toEqual([9, 1, 2]);
  });

  it('refuses the row and names every absent, stale or non-finite input', () => {
    const w = plantWindow(600_000, { aerobic: { do: features(2, { stale: true }), nh4_n: features(Number.NaN) } });
    const v = buildInputVector(w, [input('do'), input('nh4_n'), input('no3_n')]);
    expect(v).toEqual({
      ok: false,
      missing: [
        { input: 'aerobic.do.mean', reason: 'stale' },
        { input: 'aerobic.nh4_n.mean', reason: 'not_finite' },
        { input: 'aerobic.no3_n.mean', reason: 'absent' },
      ],
    });
    // a value float32 cannot hold is not finite for the session either
    expect(buildInputVector(plantWindow(1, { aerobic: { do: features(1e300) } }), [input('do')]).ok).toBe(false);
  });

  it('never hands a session a non-finite value (property)', () => {
    const value = fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY));
    fc.assert(
      fc.property(fc.array(fc.record({ v: value, stale: fc.boolean(), present: fc.boolean() }), { minLength: 1, maxLength: 6 }), (cells) => {
        const signals = Object.fromEntries(cells.flatMap((c, i) => (c.present ? [[`s${i}`, features(c.v, { stale: c.stale })]] : [])));
        const inputs = cells.map((_, i) => input(`s${i}`));
        const v = buildInputVector(plantWindow(1, { aerobic: signals }), inputs);
        if (v.ok) expect(Array.from(v.values).every(Number.isFinite)).toBe(true);
        else expect(v.missing.length).toBeGreaterThan(0);
        const healthy = cells.every((c) => c.present && !c.stale && Number.isFinite(Math.fround(c.v)));
        expect(v.ok).toBe(healthy);
      }),
    );
  });
});
