import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, SkillRing } from '../../src/lifecycle/skill.js';

interface Sample {
  hour: number;
  predicted: number;
  measured: number;
  persistence: number;
}

/** The figures recomputed directly from the samples, as a reader of the store would. */
function direct(samples: readonly Sample[]): { mae: number; mse: number; mape: number; r2: number; mseSkill: number } {
  const n = samples.length;
  const err = samples.map((s) => s.predicted - s.measured);
  const mse = err.reduce((a, e) => a + e * e, 0) / n;
  const mean = samples.reduce((a, s) => a + s.measured, 0) / n;
  const sst = samples.reduce((a, s) => a + (s.measured - mean) ** 2, 0);
  const pct = samples.filter((s) => Math.abs(s.measured) > 1e-6);
  const persist = samples.reduce((a, s) => a + (s.persistence - s.measured) ** 2, 0);
  return {
    mae: err.reduce((a, e) => a + Math.abs(e), 0) / n,
    mse,
    mape: (100 * pct.reduce((a, s) => a + Math.abs((s.predicted - s.measured) / s.measured), 0)) / pct.length,
    r2: 1 - (mse * n) / sst,
    mseSkill: 1 - (mse * n) / persist,
  };
}

const value = fc.double({ min: 0.5, max: 50, noNaN: true });
const sample = fc.record({ hour: fc.integer({ min: 0, max: 400 }), predicted: value, measured: value, persistence: value });

describe('live skill ring', () => {
  it('matches the figures recomputed from the samples of the window', () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 3, maxLength: 200 }), fc.integer({ min: 1, max: 168 }), (samples, window) => {
        const ring = new SkillRing();
        const base = 1_700_000_000_000 - (1_700_000_000_000 % HOUR_MS);
        const sorted = [...samples].sort((a, b) => a.hour - b.hour);
        for (const s of sorted) ring.add(base + s.hour * HOUR_MS + 60_000, s.predicted, s.measured, s.persistence);
        const last = sorted[sorted.length - 1]?.hour ?? 0;
        const inWindow = sorted.filter((s) => s.hour > last - window);
        const f = ring.figures(base + last * HOUR_MS, window);
        const d = direct(inWindow);
        expect(f.n).toBe(inWindow.length);
        expect(f.mae).toBeCloseTo(d.mae, 6);
        expect(f.mse).toBeCloseTo(d.mse, 4);
        expect(f.mape).toBeCloseTo(d.mape, 6);
        const mean = inWindow.reduce((a, s) => a + s.measured, 0) / inWindow.length;
        const sst = inWindow.reduce((a, s) => a + (s.measured - mean) ** 2, 0);
        if (sst > 1e-3) expect(f.r2).toBeCloseTo(d.r2, 3);
        if (Number.isFinite(d.mseSkill)) expect(f.mseSkill).toBeCloseTo(d.mseSkill, 4);
      }),
    );
  });

  it('keeps at most a week of hourly buckets however long it runs', () => {
    const ring = new SkillRing();
    for (let h = 0; h < 24 * 60; h += 1) ring.add(h * HOUR_MS, 1, 2, 3);
    expect(ring.size).toBe(168);
    expect(ring.figures((24 * 60 - 1) * HOUR_MS, 24).n).toBe(24);
  });

  it('survives a round trip through its JSON state', () => {
    const ring = new SkillRing();
    for (let h = 0; h < 50; h += 1) ring.add(h * HOUR_MS, h, h + 1, h - 1);
    const back = SkillRing.fromJSON(JSON.parse(JSON.stringify(ring)) as ReturnType<SkillRing['toJSON']>);
    expect(back.figures(49 * HOUR_MS, 24)).toEqual(ring.figures(49 * HOUR_MS, 24));
  });

  it('a perfect predictor has R2 1, MAPE 0 and full skill over a persistence that lags', () => {
    const ring = new SkillRing();
    for (let i = 0; i < 48; i += 1) ring.add(i * HOUR_MS, Math.sin(i) + 5, Math.sin(i) + 5, Math.sin(i - 1) + 5);
    const f = ring.figures(47 * HOUR_MS, 168);
    expect(f.r2).toBe(1);
    expect(f.mape).toBe(0);
    expect(f.mseSkill).toBe(1);
  });

  it('ignores non-finite values', () => {
    const ring = new SkillRing();
    ring.add(0, Number.NaN, 1, 1);
    ring.add(0, 1, Number.POSITIVE_INFINITY, 1);
    expect(ring.figures(0, 24).n).toBe(0);
  });
});
