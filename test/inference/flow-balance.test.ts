import { describe, expect, it } from 'vitest';
import { sensorChecksSchema } from '../../src/config/sections/models.js';
import type { PlantWindow, SignalFeatures } from '../../src/contract/ports.js';
import type { StageId } from '../../src/contract/plant.js';
import { checkFlowBalances } from '../../src/inference/flow-balance.js';

const { flowBalances } = sensorChecksSchema.parse({});
const feature = (mean: number, stale = false): SignalFeatures => ({ mean, last: mean, min: mean, max: mean, slope: 0, count: 5, filled: 0, stale, gappy: false });

function plant(flows: { influent: number; effluent: number; was: number; primary: number }, staleEffluent = false): PlantWindow {
  const stage = (id: StageId, signals: Record<string, SignalFeatures>) => ({ stage: id, start: 0, end: 300_000, quality: 1, signals });
  return {
    start: 0,
    end: 300_000,
    stages: {
      influent: stage('influent', { flow: feature(flows.influent) }),
      effluent: stage('effluent', { flow: feature(flows.effluent, staleEffluent) }),
      secondary: stage('secondary', { was_flow: feature(flows.was) }),
      primary: stage('primary', { sludge_flow: feature(flows.primary) }),
    },
  };
}

describe('flow balance', () => {
  it('is quiet while inflow = effluent + sludge within the tolerance, storms included', () => {
    expect(checkFlowBalances(flowBalances, plant({ influent: 18_400, effluent: 17_300, was: 385, primary: 150 }))).toEqual([]);
    expect(checkFlowBalances(flowBalances, plant({ influent: 52_000, effluent: 48_900, was: 385, primary: 150 }))).toEqual([]);
  });

  it('flags a biased inflow meter and a biased effluent meter on the balance\'s inflow, naming both sides', () => {
    const high = checkFlowBalances(flowBalances, plant({ influent: 30_400, effluent: 17_300, was: 385, primary: 150 }));
    expect(high).toHaveLength(1);
    expect(high[0]).toMatchObject({ stage: 'influent', signal: 'flow', check: 'balance' });
    expect(high[0]?.message).toMatch(/in 3\.040e\+4, out 1\.784e\+4 \(41 %/);
    const low = checkFlowBalances(flowBalances, plant({ influent: 18_400, effluent: 29_300, was: 385, primary: 150 }));
    expect(low.map((f) => f.check)).toEqual(['balance']);
  });

  it('does not judge a window with a stale meter or a plant at standstill', () => {
    expect(checkFlowBalances(flowBalances, plant({ influent: 30_400, effluent: 17_300, was: 385, primary: 150 }, true))).toEqual([]);
    expect(checkFlowBalances(flowBalances, plant({ influent: 0, effluent: 3, was: 0, primary: 0 }))).toEqual([]);
  });
});
