import { describe, expect, it } from 'vitest';
import { sensorChecksSchema } from '../../src/config/sections/models.js';
import type { PlantWindow, SignalFeatures } from '../../src/contract/ports.js';
import { checkSpeciesSums } from '../../src/inference/species-sum.js';

const { speciesSums } = sensorChecksSchema.parse({});
const feature = (mean: number, stale = false): SignalFeatures => ({ mean, last: mean, min: mean, max: mean, slope: 0, count: 5, filled: 0, stale, gappy: false });

/** One effluent window of the nitrogen analyzers (mg/L). */
function plant(n: { nh4: number; no3: number; tn: number }, staleTn = false): PlantWindow {
  return {
    start: 0,
    end: 300_000,
    stages: { effluent: { stage: 'effluent', start: 0, end: 300_000, quality: 1, signals: { nh4_n: feature(n.nh4), no3_n: feature(n.no3), tn: feature(n.tn, staleTn) } } },
  };
}

describe('species sum (analyzer plausibility)', () => {
  it('is quiet while NH4-N + NO3-N stay below TN, or above it by no more than the analyzers\' lag explains', () => {
    expect(checkSpeciesSums(speciesSums, plant({ nh4: 2.5, no3: 12.1, tn: 16.3 }))).toEqual([]);
    // The TN analyzer's 15-min cycle lags a diurnal NH4 peak: 4 % over.
    expect(checkSpeciesSums(speciesSums, plant({ nh4: 6.2, no3: 10.4, tn: 15.96 }))).toEqual([]);
  });

  it('flags an NH4 analyzer drifted 4 mg/L up on the total, naming every part (3 mg/L is still within the tolerance)', () => {
    expect(checkSpeciesSums(speciesSums, plant({ nh4: 5.5, no3: 12.1, tn: 16.3 }))).toEqual([]);
    const flags = checkSpeciesSums(speciesSums, plant({ nh4: 6.5, no3: 12.1, tn: 16.3 }));
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ stage: 'effluent', signal: 'tn', check: 'balance' });
    expect(flags[0]?.message).toBe('effluent_nitrogen: effluent.nh4_n + effluent.no3_n 18.6 above effluent.tn 16.3 (+14 %, tolerance 10 %)');
  });

  it('flags a TN analyzer reading low', () => {
    expect(checkSpeciesSums(speciesSums, plant({ nh4: 2.5, no3: 12.1, tn: 12.0 })).map((f) => f.check)).toEqual(['balance']);
  });

  it('does not judge a window with a stale analyzer or a total below minTotal', () => {
    expect(checkSpeciesSums(speciesSums, plant({ nh4: 5.5, no3: 12.1, tn: 12.0 }, true))).toEqual([]);
    expect(checkSpeciesSums(speciesSums, plant({ nh4: 0.9, no3: 0.9, tn: 1.2 }))).toEqual([]);
  });
});
