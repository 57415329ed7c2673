import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultPlantGeometry, plantGeometrySchema } from '../../src/config/sections/plant-geometry.js';
import { STAGES, type StageId } from '../../src/contract/plant.js';
import type { PlantWindow, SignalFeatures, StageWindow } from '../../src/contract/ports.js';
import type { IndicatorRow } from '../../src/contract/rows.js';
import { INDICATORS, computeIndicators } from '../../src/indicators/index.js';

const END = Date.UTC(2024, 0, 1, 0, 5);

function features(mean: number, stale = false): SignalFeatures {
  return { mean, last: mean, min: mean, max: mean, slope: 0, count: 1, filled: 0, stale, gappy: false };
}

/** A plant window from `stage.signal` -> mean; refs listed in `stale` are marked stale. */
function plant(means: Record<string, number>, stale: readonly string[] = []): PlantWindow {
  const stages: Partial<Record<StageId, StageWindow>> = {};
  for (const [ref, mean] of Object.entries(means)) {
    const [stage, id] = ref.split('.') as [StageId, string];
    const w = stages[stage] ?? { stage, start: END - 300_000, end: END, quality: 1, signals: {} };
    stages[stage] = { ...w, signals: { ...w.signals, [id]: features(mean, stale.includes(ref)) } };
  }
  return { start: END - 300_000, end: END, stages };
}

/** BSM1-like dry weather means. */
const typical = {
  'influent.flow': 18446,
  'influent.cod': 300,
  'influent.bod5': 200,
  'influent.tss': 200,
  'influent.tn': 50,
  'influent.nh4_n': 31.6,
  'influent.tp': 8,
  'primary.cod_out': 210,
  'primary.tss_out': 120,
  'anoxic.nh4_n': 8,
  'aerobic.nh4_n': 2,
  'aerobic.mlss': 3000,
  'secondary.tss_out': 12,
  'secondary.was_flow': 385,
  'secondary.ras_tss': 6000,
  'secondary.ras_flow': 18446,
  'membrane.permeate_flow': 18000,
  'phosphorus.po4_p': 4,
  'effluent.flow': 18061,
  'effluent.cod': 48,
  'effluent.bod5': 3,
  'effluent.tss': 12,
  'effluent.tn': 15,
  'effluent.nh4_n': 2,
  'effluent.tp': 1,
  'effluent.po4_p': 0.5,
};

function find(rows: readonly IndicatorRow[], stage: StageId, name: string): IndicatorRow | undefined {
  return rows.find((r) => r.stage === stage && r.name === name);
}

describe('computeIndicators', () => {
  const rows = computeIndicators(plant(typical), defaultPlantGeometry);

  it('computes loads as Q x C / 1000 in kg/d', () => {
    expect(find(rows, 'influent', 'load_cod')).toEqual({ stage: 'influent', name: 'load_cod', ts: END, value: expect.closeTo(5533.8, 9) as number, unit: 'kg/d' });
    expect(find(rows, 'effluent', 'load_tss')?.value).toBeCloseTo(216.732, 9);
    expect(rows.filter((r) => r.name.startsWith('load_'))).toHaveLength(12);
  });

  it('computes removal per stage and overall in %', () => {
    expect(find(rows, 'effluent', 'removal_cod')?.value).toBeCloseTo(84, 9);
    expect(find(rows, 'effluent', 'removal_tn')?.value).toBeCloseTo(70, 9);
    expect(find(rows, 'primary', 'removal_tss')?.value).toBeCloseTo(40, 9);
    expect(find(rows, 'primary', 'removal_cod')?.value).toBeCloseTo(30, 9);
    expect(find(rows, 'aerobic', 'removal_nh4_n')?.value).toBeCloseTo(75, 9);
    expect(find(rows, 'secondary', 'solids_capture')?.value).toBeCloseTo(99.6, 9);
    expect(find(rows, 'phosphorus', 'removal_po4_p')?.value).toBeCloseTo(87.5, 9);
  });

  it('computes F/M, C/N, HRT, SRT and the settler and membrane loading', () => {
    // 3689.2 kg BOD5/d over 3 kg/m3 x 3999 m3.
    expect(find(rows, 'aerobic', 'fm_ratio')?.value).toBeCloseTo(3689.2 / 11997, 9);
    expect(find(rows, 'influent', 'cn_ratio')?.value).toBeCloseTo(6, 12);
    expect(find(rows, 'influent', 'bod_tn_ratio')?.value).toBeCloseTo(4, 12);
    expect(find(rows, 'aerobic', 'hrt')?.value).toBeCloseTo((24 * 3999) / 18446, 9);
    expect(find(rows, 'anoxic', 'hrt')?.value).toBeCloseTo((24 * 2000) / 18446, 9);
    expect(find(rows, 'secondary', 'hrt')?.value).toBeCloseTo((24 * 6000) / 18446, 9);
    expect(find(rows, 'membrane', 'hrt')).toBeUndefined();
    // 3 kg/m3 x 6499 m3 over 2310 kg/d wasted + 216.732 kg/d lost.
    expect(find(rows, 'secondary', 'srt')?.value).toBeCloseTo(19497 / 2526.732, 9);
    expect(find(rows, 'secondary', 'surface_overflow_rate')?.value).toBeCloseTo(18061 / 24 / 1500, 9);
    expect(find(rows, 'secondary', 'solids_loading_rate')?.value).toBeCloseTo((36892 * 3) / 24 / 1500, 9);
    expect(find(rows, 'membrane', 'net_flux')?.value).toBeCloseTo((18000 * 1000) / 24 / 30000, 9);
  });

  it('computes SVI only when a settleability (ssv30) signal exists', () => {
    expect(find(rows, 'secondary', 'svi')).toBeUndefined();
    const withSsv = computeIndicators(plant({ ...typical, 'secondary.ssv30': 300 }), defaultPlantGeometry);
    expect(find(withSsv, 'secondary', 'svi')?.value).toBeCloseTo(100, 12);
  });

  it('skips indicators whose inputs are missing or stale', () => {
    const staleCod = computeIndicators(plant(typical, ['influent.cod']), defaultPlantGeometry);
    for (const [stage, name] of [['influent', 'load_cod'], ['effluent', 'removal_cod'], ['primary', 'removal_cod'], ['influent', 'cn_ratio']] as const) {
      expect(find(staleCod, stage, name)).toBeUndefined();
    }
    expect(find(staleCod, 'influent', 'load_tss')).toBeDefined();
    const { 'effluent.tss': _dropped, ...noEffluentTss } = typical;
    // SRT falls back to the clarified TSS of the secondary clarifier.
    expect(find(computeIndicators(plant(noEffluentTss), defaultPlantGeometry), 'secondary', 'srt')?.value).toBeCloseTo(19497 / (2310 + (18061 * 12) / 1000), 9);
    expect(computeIndicators(plant({}), defaultPlantGeometry)).toEqual([]);
  });

  it('skips instead of dividing by zero', () => {
    const dry = computeIndicators(plant({ ...typical, 'influent.flow': 0, 'influent.cod': 0, 'influent.tn': 0 }), defaultPlantGeometry);
    expect(find(dry, 'aerobic', 'hrt')).toBeUndefined();
    expect(find(dry, 'effluent', 'removal_cod')).toBeUndefined();
    expect(find(dry, 'influent', 'cn_ratio')).toBeUndefined();
    expect(find(dry, 'influent', 'load_tss')?.value).toBe(0);
  });

  it('uses the configured geometry', () => {
    const geometry = plantGeometrySchema.parse({ aerobicVolumesM3: [2000, 2000], membraneTankVolumeM3: 400 });
    const custom = computeIndicators(plant(typical), geometry);
    expect(find(custom, 'aerobic', 'hrt')?.value).toBeCloseTo((24 * 4000) / 18446, 9);
    expect(find(custom, 'membrane', 'hrt')?.value).toBeCloseTo((24 * 400) / 18446, 9);
  });

  it('names every indicator once per stage, with a unit', () => {
    const keys = INDICATORS.map((d) => `${d.stage}/${d.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const d of INDICATORS) expect(d.unit.length).toBeGreaterThan(0);
  });

  it('never emits NaN or Infinity, whatever the inputs', () => {
    const refs = [...new Set(INDICATORS.flatMap((d) => Object.values(d.inputs).flat()))];
    const value = fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, -0, -1, 1e-300, 1e308, -1e308, Infinity, NaN));
    const geometryArb = fc.record({
      primaryVolumeM3: fc.double({ min: 0, max: 1e6, noNaN: true }),
      anaerobicVolumeM3: fc.double({ min: 0, max: 1e6, noNaN: true }),
      anoxicVolumesM3: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 3 }),
      aerobicVolumesM3: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 3 }),
      settlerAreaM2: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      settlerDepthM: fc.double({ min: 1e-6, max: 100, noNaN: true }),
      membraneAreaM2: fc.double({ min: 0, max: 1e6, noNaN: true }),
      membraneTankVolumeM3: fc.double({ min: 0, max: 1e6, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...refs), value), fc.array(fc.constantFrom(...refs)), geometryArb, (means, stale, geometry) => {
        for (const row of computeIndicators(plant(means, stale), geometry)) {
          expect(Number.isFinite(row.value)).toBe(true);
          expect(STAGES).toContain(row.stage);
          expect(row.ts).toBe(END);
        }
      }),
      { numRuns: 500 },
    );
  });
});
