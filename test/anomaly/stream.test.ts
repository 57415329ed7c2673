import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fitCsv } from '../../src/anomaly/index.js';
import { defaultDetectorSettings, fitDetector } from '../../src/anomaly/core.js';
import { driftToNoise, smoothInputs } from '../../src/anomaly/postprocess.js';
import { columnDriftToNoise, smoothColumn, usableRows } from '../../src/anomaly/stream.js';
import { createRng } from '../../src/training/random.js';

const work = mkdtempSync(join(tmpdir(), 'wwtp-anomaly-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the streamed CSV fit is the one detector core on complete rows', () => {
  it('smooths and measures drift as smoothInputs / driftToNoise do (EWMA and trailing mean)', () => {
    const rng = createRng(9);
    const values = Float64Array.from({ length: 300 }, (_, i) => 5 + 0.01 * i + (rng() - 0.5));
    for (const inputFilter of ['ewma', 'mean'] as const) {
      const post = { inputWindow: 12, scoreWindow: 1, persistence: 1, thresholdQuantile: 1, thresholdMargin: 1, inputFilter };
      const expected = smoothInputs(Array.from(values, (v) => [v]), post).map((r) => r[0] ?? 0);
      const got = smoothColumn(values, 300, post);
      expected.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 10));
      const use = usableRows([values], 300, 11, 12).use;
      expect(columnDriftToNoise(got, values, 11, 300, use)).toBeCloseTo(driftToNoise(expected.slice(11), Array.from(values)), 8);
    }
  });

  it('bridges a short gap and skips rows after a long one', () => {
    const values = Float64Array.from({ length: 30 }, (_, i) => ((i >= 5 && i < 7) || (i >= 10 && i < 20) ? Number.NaN : i));
    const { use, complete, imputed, skipped } = usableRows([values], 30, 0, 3);
    expect([complete, imputed, skipped]).toEqual([18, 5, 7]);
    expect(use[6]).toBe(1);
    expect(use[13]).toBe(0);
  });

  it('gives fitDetector\'s scaler, residual spread and threshold on a file without gaps', async () => {
    const rng = createRng(4);
    const rows = Array.from({ length: 300 }, (_, i) => {
      const a = 10 + Math.sin(i / 50) + 0.1 * rng();
      return [a, 2 * a + 0.1 * rng(), 3 + 0.2 * rng()];
    });
    const csv = join(work, 'plain.csv');
    writeFileSync(csv, `time,a,b,c\n${rows.map((r, i) => [i, ...r.map((v) => v.toFixed(6))].join(',')).join('\n')}\n`);
    const parsed = rows.map((r) => r.map((v) => Number(v.toFixed(6))));
    const settings = { ...defaultDetectorSettings, epochs: 8 };
    const core = await fitDetector({ rows: parsed, columns: ['a', 'b', 'c'] }, settings, { name: 'csv-detector', seed: 3 });
    core.dispose();
    const fit = await fitCsv({ csv, out: join(work, 'm'), seed: 3, settings: { epochs: 8 } });
    expect(fit.columns).toEqual([...core.columns]);
    expect(fit.manifest.scaler.center).toEqual(core.scaler.center.map((v) => expect.closeTo(v, 9) as unknown as number));
    expect(fit.manifest.scaler.scale).toEqual(core.scaler.scale.map((v) => expect.closeTo(v, 9) as unknown as number));
    expect(fit.manifest.postprocess?.residualScale).toEqual(core.post.residualScale?.map((v) => expect.closeTo(v, 6) as unknown as number));
    expect(fit.threshold).toBeCloseTo(core.threshold, 6);
  }, 60_000);
});
