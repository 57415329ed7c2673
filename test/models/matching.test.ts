import { describe, expect, it } from 'vitest';
import { episodesOf, scoreDetections } from '../../eval/twin-faults/matching.js';

const MIN = 60_000;
const W = 5 * MIN;

describe('event matching of the twin-fault evaluation', () => {
  it('merges adjacent anomalous windows into episodes', () => {
    expect(episodesOf([10 * W, 11 * W, 12 * W, 20 * W], W, W).map((e) => [e.start, e.end])).toEqual([[9 * W, 12 * W], [19 * W, 20 * W]]);
  });

  it('counts a detection inside [start, end + grace] as a hit with its delay, and an episode overlapping no event as a false positive', () => {
    const events = [
      { kind: 'sensor_bias', stage: 'influent', signal: 'flow', start: 100 * MIN, end: 160 * MIN },
      { kind: 'blower_failure', stage: 'aerobic', signal: null, start: 400 * MIN, end: 420 * MIN },
      { kind: 'sludge_bulking', stage: 'secondary', signal: null, start: 800 * MIN, end: 900 * MIN },
    ];
    // first event seen 5 min in; second only after its end but within grace; third never; one stray episode
    const ends = [105 * MIN, 110 * MIN, 440 * MIN, 2000 * MIN];
    const score = scoreDetections(events, ends, W, W, 60 * MIN);
    expect(score.events.map((e) => e.detected)).toEqual([true, true, false]);
    expect(score.events.map((e) => e.delayMs)).toEqual([5 * MIN, 40 * MIN, null]);
    expect(score.recall).toBeCloseTo(2 / 3);
    expect(score.episodes).toBe(3);
    expect(score.falsePositiveEpisodes).toBe(1);
    expect(score.precision).toBeCloseTo(2 / 3);
    expect(score.medianDelayMin).toBe(22.5);
  });
});
