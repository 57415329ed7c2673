import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { defaultDetectorSettings, fitDetector } from '../../src/anomaly/core.js';
import { OnlineDetector } from '../../src/anomaly/online.js';
import { applyPostprocess, heldFlags, persistentFlags, trailingMean } from '../../src/anomaly/postprocess.js';
import { judgeColumns } from '../../src/anomaly/score.js';
import { GRAPH_INPUT } from '../../src/onnx/writer.js';
import { createRng } from '../../src/training/random.js';

describe('the detector scoring row by row (daemon) is the batch scoring (anomaly score)', () => {
  it('verdict steps one row at a time give trailing mean, persistence and hold', () => {
    const rng = createRng(11);
    const raw = Array.from({ length: 200 }, () => 3 * rng());
    const post = { inputWindow: 1, scoreWindow: 4, persistence: 2, thresholdQuantile: 1, thresholdMargin: 1, hold: 3 };
    const scores = trailingMean(raw, 4);
    const { scores: got, flags } = applyPostprocess(raw, 1.8, post);
    got.forEach((v, i) => expect(v).toBeCloseTo(scores[i] ?? Number.NaN, 12));
    expect(flags).toEqual(heldFlags(persistentFlags(scores, 1.8, 2), 3));
    expect(flags.some(Boolean) && flags.some((f) => !f)).toBe(true);
  });

  it('gives the batch pass its scores and flags on every row, gaps and all, for each aggregate', async () => {
    const rng = createRng(5);
    const rows = Array.from({ length: 400 }, (_, i) => {
      const a = 10 + Math.sin(i / 40) + 0.1 * rng();
      return [a, 2 * a + 0.1 * rng(), 3 + 0.2 * rng()];
    });
    // a later stretch with a fault on b and some blank cells
    const later = Array.from({ length: 200 }, (_, i) => {
      const a = 10 + Math.sin(i / 40) + 0.1 * rng();
      return [i % 17 === 3 ? Number.NaN : a, 2 * a + 0.1 * rng() + (i > 120 ? 12 : 0), i % 29 === 5 ? Number.NaN : 3 + 0.2 * rng()];
    });
    later[50] = [Number.NaN, Number.NaN, Number.NaN];
    for (const aggregate of ['ensemble', 'sum', 'max'] as const) {
      const settings = { ...defaultDetectorSettings, epochs: 6, aggregate, residualScaled: aggregate === 'sum', scoreWindow: 3, persistence: 2, hold: 2, inputWindow: 9 };
      const fitted = await fitDetector({ rows, columns: ['a', 'b', 'c'], explicit: true }, settings, { name: 'online', seed: 2 });
      fitted.dispose();
      const scoring = { post: fitted.post, threshold: fitted.threshold, center: fitted.scaler.center };
      const columns = [0, 1, 2].map((j) => Float64Array.from(later, (r) => r[j] ?? Number.NaN));
      const batch = await judgeColumns(fitted.onnx, GRAPH_INPUT, columns, later.length, scoring);
      const session = await ort.InferenceSession.create(fitted.onnx);
      const online = new OnlineDetector(scoring);
      try {
        for (const [i, row] of later.entries()) {
          const v = await online.next(row, async (input) => {
            const out = await session.run({ [GRAPH_INPUT]: new ort.Tensor('float32', input, [1, 3]) });
            return { squaredError: out['squared_error']?.data as Float32Array, standardized: out['standardized']?.data as Float32Array };
          });
          expect(v.score, `${aggregate} row ${i}`).toBeCloseTo(batch.scores[i] ?? Number.NaN, 5);
          expect(v.flag, `${aggregate} row ${i}`).toBe(batch.flags[i]);
          expect(v.missing).toBe(batch.pass.missingCount[i]);
        }
      } finally {
        await session.release();
      }
      expect(batch.flags.slice(130).some(Boolean), aggregate).toBe(true);
    }
  }, 120_000);
});
