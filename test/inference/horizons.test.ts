import { describe, expect, it } from 'vitest';
import { createInference } from '../../src/inference/index.js';
import type { Eligibility } from '../../src/onnx/manifest.js';
import { writeModelBundle } from '../../src/models/bundle-writer.js';
import { buildDenseNet, regressorSpec } from '../../src/training/models.js';
import { loadTf } from '../../src/training/tf.js';
import { features, plantWindow, tempDir, testContext } from './helpers.js';

const T0 = Date.UTC(2025, 0, 6); // a Monday, midnight UTC
const INPUTS = [
  { stage: 'aerobic', signal: 'no3_n', feature: 'mean' },
  { stage: 'aerobic', signal: 'no3_n', feature: 'mean@-15m' },
  { stage: 'aerobic', signal: 'clock', feature: 'daysin1' },
];
const HORIZONS = [15, 60, 240];
const TARGETS = HORIZONS.map((h) => ({ stage: 'aerobic', signal: 'no3_n', feature: `mean@+${h}m` }));

/**
 * A linear predictor with known weights: no3_n in h minutes = now + (now - 15 min ago) x h/15 + 10 x sin(day phase).
 * Raw units in and out (unit scalers), so the expected prediction is plain arithmetic.
 */
async function buildTrendPredictor(dir: string, name: string, eligible: readonly boolean[]): Promise<void> {
  const loaded = await loadTf();
  const spec = regressorSpec(INPUTS.length, [], TARGETS.length, 'linear');
  const model = buildDenseNet(loaded.tf, spec, 1);
  const kernel = INPUTS.flatMap((_, i) => HORIZONS.map((h) => [1 + h / 15, -h / 15, 10][i] ?? 0));
  model.layers[0]?.setWeights([loaded.tf.tensor2d(kernel, [INPUTS.length, TARGETS.length]), loaded.tf.zeros([TARGETS.length])]);
  const unit = (n: number): { kind: 'standard'; center: number[]; scale: number[] } => ({ kind: 'standard', center: new Array<number>(n).fill(0), scale: new Array<number>(n).fill(1) });
  const eligibility: Eligibility = {
    bar: 0.3, barHorizonsMin: [60, 240],
    targets: Object.fromEntries(HORIZONS.map((h, i) => [`aerobic.no3_n@+${h}m`, { eligible: eligible[i] ?? true, mseSkill: eligible[i] ? 0.5 : 0.1, reason: eligible[i] ? 'met' : `aerobic.no3_n misses the bar: MSE skill 0.100 at ${h} min` }])),
  };
  const rows = [[8, 7, 0], [9, 9, 0.5], [10, 11, -0.5], [7, 6, 1]];
  await writeModelBundle(dir, {
    loaded, model, spec, inputScaler: unit(INPUTS.length), outputScaler: unit(TARGETS.length), verificationRows: rows, replace: true,
    manifest: {
      name, version: '1.0.0', kind: 'predictor', inputs: INPUTS, targets: TARGETS, metrics: { test: 1 }, eligibility,
      training: { source: 'fixed weights', rows: 0, seed: 1, split: { mode: 'tail', trainRows: 0, validationRows: 0 }, epochs: 1, layers: spec.layers.map((l) => ({ ...l })) },
    },
  }, rows);
  model.dispose();
}

describe('predictors at several horizons', () => {
  it('publishes one message per eligible horizon from recent history and the clock, stores its persistence, and leaves out targets that missed the bar', async () => {
    const dir = tempDir('horizons');
    await buildTrendPredictor(dir, 'predict-aerobic', [true, true, false]);
    const { ctx, rec } = testContext(dir);
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      const info = inference.models().find((m) => m.name === 'predict-aerobic');
      expect(info).toMatchObject({ eligible: true, inactiveTargets: [{ target: 'aerobic.no3_n@+240m', reason: expect.stringContaining('misses the bar') as unknown }] });
      // No window 15 min before the first one: its history input is absent, the model is skipped.
      const first = await inference.onWindow(plantWindow(T0 + 6 * 3_600_000, { aerobic: { no3_n: features(8) } }));
      expect(first.predictions).toEqual([]);
      expect(first.skipped).toEqual([{ model: 'predict-aerobic@1.0.0', missing: [{ input: 'aerobic.no3_n.mean@-15m', reason: 'absent' }] }]);
      await inference.onWindow(plantWindow(T0 + 6 * 3_600_000 + 300_000, { aerobic: { no3_n: features(8.5) } }));
      await inference.onWindow(plantWindow(T0 + 6 * 3_600_000 + 600_000, { aerobic: { no3_n: features(8.8) } }));
      const end = T0 + 6 * 3_600_000 + 900_000; // 06:15 UTC: sin of the day phase = sin(2 pi x 6.25/24)
      const out = await inference.onWindow(plantWindow(end, { aerobic: { no3_n: features(9) } }));
      const day = Math.sin((2 * Math.PI * 6.25) / 24);
      expect(out.predictions.map((p) => p.horizonMin)).toEqual([15, 60]);
      for (const p of out.predictions) {
        expect(p).toMatchObject({ stage: 'aerobic', signal: 'no3_n', ts: end, persistence: 9, model: 'predict-aerobic@1.0.0' });
        expect(p.value).toBeCloseTo(9 + (9 - 8) * (p.horizonMin / 15) + 10 * day, 3);
      }
      const published = rec.published.filter((p) => p.kind === 'prediction').map((p) => p.payload as { horizonMin: number; ts: number });
      expect(published.filter((p) => p.ts === end).map((p) => p.horizonMin)).toEqual([15, 60]);
    } finally {
      await inference.stop();
    }
  });

  it('does not run a predictor none of whose targets met the bar, and says so in its listing', async () => {
    const dir = tempDir('horizons-none');
    await buildTrendPredictor(dir, 'predict-aerobic', [false, false, false]);
    const { ctx, rec } = testContext(dir);
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      expect(inference.models()).toEqual([expect.objectContaining({ name: 'predict-aerobic', eligible: false })]);
      expect(inference.models()[0]?.inactiveTargets.map((t) => t.target)).toEqual(['aerobic.no3_n@+15m', 'aerobic.no3_n@+60m', 'aerobic.no3_n@+240m']);
      for (const m of [0, 15]) await inference.onWindow(plantWindow(T0 + m * 60_000, { aerobic: { no3_n: features(8) } }));
      expect(rec.published.filter((p) => p.kind === 'prediction')).toEqual([]);
    } finally {
      await inference.stop();
    }
  });
});
