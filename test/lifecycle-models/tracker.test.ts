import { describe, expect, it } from 'vitest';
import type { PlantWindow, SignalFeatures } from '../../src/contract/ports.js';
import type { PredictionRow } from '../../src/contract/rows.js';
import { LiveTracker, type TrackedModel } from '../../src/lifecycle/tracker.js';

const WINDOW_MS = 600_000;
const feat = (v: number): SignalFeatures => ({ mean: v, last: v, min: v, max: v, slope: 0, count: 10, filled: 0, stale: false, gappy: false });
const windowAt = (end: number, nh4: number): PlantWindow => ({
  start: end - WINDOW_MS,
  end,
  stages: { effluent: { stage: 'effluent', start: end - WINDOW_MS, end, quality: 1, signals: { nh4_n: feat(nh4) } } },
});
const model: TrackedModel = { id: 'nh4-forecast@v1', inputs: [{ stage: 'effluent', signal: 'nh4_n', feature: 'mean' }], center: [2], scale: [0.5] };
const nh4At = (i: number): number => 2 + 0.5 * Math.sin(i / 7);

describe('live tracker', () => {
  it('compares each prediction with the window mean once its horizon passed, against persistence', () => {
    const tracker = new LiveTracker();
    const t0 = 1_800_000_000_000 - (1_800_000_000_000 % 3_600_000);
    const made: { due: number; predicted: number; persistence: number }[] = [];
    const measuredAt = new Map<number, number>();
    for (let i = 0; i < 300; i += 1) {
      const end = t0 + i * WINDOW_MS;
      measuredAt.set(end, nh4At(i));
      const predicted = nh4At(i + 3) + 0.05 * Math.cos(i);
      const row: PredictionRow = { stage: 'effluent', signal: 'nh4_n', ts: end, horizonMin: 30, value: predicted, unit: 'mg/L', model: model.id };
      tracker.onWindow(windowAt(end, nh4At(i)), [model], [row]);
      made.push({ due: end + 30 * 60_000, predicted, persistence: nh4At(i) });
    }
    const now = t0 + 299 * WINDOW_MS;
    const resolved = made.filter((m) => m.due <= now && m.due > now - 24 * 3_600_000);
    const err = resolved.map((m) => m.predicted - (measuredAt.get(m.due) ?? Number.NaN));
    const mae = err.reduce((a, e) => a + Math.abs(e), 0) / err.length;
    const sse = err.reduce((a, e) => a + e * e, 0);
    const persist = resolved.reduce((a, m) => a + (m.persistence - (measuredAt.get(m.due) ?? 0)) ** 2, 0);
    const f = tracker.figures(model.id, now).skill['effluent.nh4_n@30'];
    expect(f?.['24h'].n).toBe(resolved.length);
    expect(f?.['24h'].mae).toBeCloseTo(mae, 9);
    expect(f?.['24h'].mseSkill).toBeCloseTo(1 - sse / persist, 9);
    expect(f?.['24h'].mseSkill).toBeGreaterThan(0);
    expect(f?.['7d'].n).toBe(297);
    // the rings come back after a restart
    const back = new LiveTracker(JSON.parse(JSON.stringify(tracker.toState())) as ReturnType<LiveTracker['toState']>);
    expect(back.figures(model.id, now)).toEqual(tracker.figures(model.id, now));
  });

  it('names an analyzer offset in the input drift', () => {
    const healthy = new LiveTracker();
    const offset = new LiveTracker();
    // training distribution of the input: normal, centre 2, scale 0.5 (the manifest's scaler)
    let s = 3;
    const u = (): number => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) + 1) / (2 ** 31 + 1);
    for (let i = 0; i < 500; i += 1) {
      const z = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
      healthy.onWindow(windowAt(i * WINDOW_MS, 2 + 0.5 * z), [model], []);
      offset.onWindow(windowAt(i * WINDOW_MS, 2.6 + 0.5 * z), [model], []);
    }
    const now = 499 * WINDOW_MS;
    expect(healthy.figures(model.id, now).drift['effluent.nh4_n.mean']?.['7d'].psi).toBeLessThan(0.25);
    expect(offset.figures(model.id, now).drift['effluent.nh4_n.mean']?.['7d'].psi).toBeGreaterThan(0.25);
  });
});
