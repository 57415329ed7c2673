import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINS, DAY_MS, DriftRing, psi } from '../../src/lifecycle/drift.js';
import { evaluateTriggers } from '../../src/lifecycle/triggers.js';
import { lifecycleSchema } from '../../src/config/sections/lifecycle.js';

/** Deterministic normal draws (Box-Muller on a small LCG). */
function normals(n: number, mean: number, sd: number, seed = 7): number[] {
  let s = seed;
  const u = (): number => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s + 1) / (2 ** 31 + 1);
  };
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('input drift', () => {
  it('PSI is 0 for equally filled bins and never negative', () => {
    expect(psi(new Array<number>(BINS).fill(5))).toBeCloseTo(0, 12);
    fc.assert(fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: BINS, maxLength: BINS }), (counts) => {
      const p = psi(counts);
      if (counts.every((c) => c === 0)) expect(p).toBeNaN();
      else expect(p).toBeGreaterThanOrEqual(-1e-12);
    }));
  });

  it('an input from its training distribution does not drift; an NH4 analyzer offset does, and fires the trigger naming it', () => {
    const nh4 = new DriftRing(2, 0.8);
    const flow = new DriftRing(20_000, 3_000);
    const t0 = 100 * DAY_MS;
    normals(2000, 2, 0.8).forEach((v, i) => nh4.add(t0 + i * 60_000, v));
    normals(2000, 20_000, 3_000, 11).forEach((v, i) => flow.add(t0 + i * 60_000, v));
    const now = t0 + 2000 * 60_000;
    expect(nh4.figures(now, 7).psi).toBeLessThan(0.05);
    expect(flow.figures(now, 7).psi).toBeLessThan(0.05);

    const shifted = new DriftRing(2, 0.8);
    normals(2000, 2 + 1.5, 0.8).forEach((v, i) => shifted.add(t0 + i * 60_000, v));
    const d = shifted.figures(now, 7);
    expect(d.psi).toBeGreaterThan(0.25);
    expect(d.shift).toBeCloseTo(1.5 / 0.8, 0);

    const config = lifecycleSchema.parse({});
    const fired = evaluateTriggers(config, {
      heldOut: {},
      skill7d: {},
      drift7d: { 'effluent.nh4_n': d, 'influent.flow': flow.figures(now, 7) },
      nowMs: now,
      newWindows: 0,
      falseAlarms7d: 0,
    });
    expect(fired).toHaveLength(1);
    expect(fired[0]?.trigger).toBe('drift');
    expect(fired[0]?.inputs).toEqual(['effluent.nh4_n']);
    expect(fired[0]?.reason).toMatch(/^retraining requested: .*effluent\.nh4_n/);

    const off = evaluateTriggers(lifecycleSchema.parse({ drift: { enabled: false } }), {
      heldOut: {}, skill7d: {}, drift7d: { 'effluent.nh4_n': d }, nowMs: now, newWindows: 0, falseAlarms7d: 0,
    });
    expect(off).toEqual([]);
  });

  it('judges an input only once its live values span a plant day: the morning after a start is not drift', () => {
    const config = lifecycleSchema.parse({});
    const flow = new DriftRing(20_000, 3_000);
    const t0 = 100 * DAY_MS + 6 * 3_600_000;
    // A diurnal flow: the first hours after a start are its morning peak only.
    const diurnal = (m: number): number => 20_000 + 4_000 * Math.sin((2 * Math.PI * m) / 1440);
    const feed = (from: number, to: number): void => {
      for (let m = from; m < to; m += 5) flow.add(t0 + m * 60_000, diurnal(m));
    };
    const judge = (minutes: number) =>
      evaluateTriggers(config, { heldOut: {}, skill7d: {}, drift7d: { 'influent.flow.mean': flow.figures(t0 + minutes * 60_000, 7) }, nowMs: t0 + minutes * 60_000, newWindows: 0, falseAlarms7d: 0 });
    feed(0, 360);
    const morning = flow.figures(t0 + 360 * 60_000, 7);
    expect(morning.n).toBeGreaterThanOrEqual(config.drift.minSamples);
    expect(morning.psi).toBeGreaterThan(config.drift.psi);
    expect(morning.spanMs).toBeLessThan(DAY_MS);
    expect(judge(360)).toEqual([]);
    // A whole day later the same signal is judged (and this one, with its full cycle, has moved little).
    feed(360, 1445);
    expect(flow.figures(t0 + 1445 * 60_000, 7).spanMs).toBeGreaterThanOrEqual(DAY_MS);
    expect(judge(1445)).toEqual([]);
    expect(flow.figures(t0 + 1445 * 60_000, 7).psi).toBeLessThan(config.drift.psi);
    // The span survives the saved state; a day saved without it counts as a whole day.
    const restored = DriftRing.fromJSON(20_000, 3_000, flow.toJSON());
    expect(restored.figures(t0 + 1445 * 60_000, 7).spanMs).toBe(flow.figures(t0 + 1445 * 60_000, 7).spanMs);
    const old = DriftRing.fromJSON(0, 1, [{ day: 5, counts: new Array<number>(BINS).fill(1), sum: 0 }]);
    expect(old.figures(5 * DAY_MS, 7).spanMs).toBe(DAY_MS - 1);
  });

  it('keeps a week of days', () => {
    const r = new DriftRing(0, 1);
    for (let day = 0; day < 30; day += 1) r.add(day * DAY_MS, 0.1);
    expect(r.toJSON()).toHaveLength(7);
    expect(r.figures(29 * DAY_MS, 1).n).toBe(1);
    expect(DriftRing.fromJSON(0, 1, r.toJSON()).figures(29 * DAY_MS, 7)).toEqual(r.figures(29 * DAY_MS, 7));
  });
});

describe('retraining triggers', () => {
  const base = { heldOut: { mape: 10, r2: 0.8 }, skill7d: {}, drift7d: {}, nowMs: 40 * DAY_MS, newWindows: 0, falseAlarms7d: 0 };
  const fig = (mape: number, r2: number, n = 500) => ({ n, mape, r2, mae: 1, mse: 1, mseSkill: 0.2 });

  it('skill: MAPE over 10 % above held-out, or R2 0.05 below, with enough samples', () => {
    const c = lifecycleSchema.parse({});
    expect(evaluateTriggers(c, { ...base, skill7d: { 'effluent.nh4_n@1h': fig(10.9, 0.8) } })).toEqual([]);
    expect(evaluateTriggers(c, { ...base, skill7d: { 'effluent.nh4_n@1h': fig(11.1, 0.8) } })[0]?.trigger).toBe('skill');
    expect(evaluateTriggers(c, { ...base, skill7d: { 'effluent.nh4_n@1h': fig(10, 0.74) } })[0]?.reason).toMatch(/R2 0\.740/);
    expect(evaluateTriggers(c, { ...base, skill7d: { 'effluent.nh4_n@1h': fig(50, 0, 10) } })).toEqual([]);
  });

  it('schedule, new windows and false alarms fire at their thresholds and can be switched off', () => {
    const c = lifecycleSchema.parse({});
    const all = evaluateTriggers(c, { ...base, activatedAtMs: 10 * DAY_MS, newWindows: 1000, falseAlarms7d: 5 });
    expect(all.map((o) => o.trigger)).toEqual(['schedule', 'new_windows', 'false_alarms']);
    expect(evaluateTriggers(c, { ...base, activatedAtMs: 11 * DAY_MS, newWindows: 999, falseAlarms7d: 4 })).toEqual([]);
    const off = lifecycleSchema.parse({ schedule: { enabled: false }, newWindows: { enabled: false }, falseAlarms: { enabled: false } });
    expect(evaluateTriggers(off, { ...base, activatedAtMs: 0, newWindows: 5000, falseAlarms7d: 50 })).toEqual([]);
    expect(evaluateTriggers(lifecycleSchema.parse({ enabled: false }), { ...base, activatedAtMs: 0 })).toEqual([]);
  });

  it('rejects unknown keys in models.lifecycle', () => {
    expect(() => lifecycleSchema.parse({ skil: {} })).toThrow();
  });
});
