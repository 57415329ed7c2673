import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { autoencoderSpec, buildDenseNet, exportDenseWeights } from '../../src/training/models.js';
import { createRng, shuffled, splitIndices } from '../../src/training/random.js';
import { applyScaler, fitScaler, invertScaler } from '../../src/training/scaler.js';
import { loadTf } from '../../src/training/tf.js';
import { trainDenseNet } from '../../src/training/train.js';

function rows(seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: 120 }, () => {
    const a = rng();
    return [a, 2 * a + 0.1 * rng(), 1 - a];
  });
}

describe('training', () => {
  it('gives identical weights for the same seed and data, and different ones for another seed', async () => {
    const { tf, backend } = await loadTf();
    expect(backend).toBe('tfjs');
    const spec = autoencoderSpec(3, [4, 2]);
    const train = async (seed: number): Promise<Float32Array> => {
      const model = buildDenseNet(tf, spec, seed);
      const x = rows(5);
      await trainDenseNet(tf, model, x, x, { epochs: 8, seed });
      const kernel = exportDenseWeights(model, spec)[0]?.kernel ?? new Float32Array();
      model.dispose();
      return kernel;
    };
    const a = await train(1);
    expect(await train(1)).toEqual(a);
    expect(await train(2)).not.toEqual(a);
  });

  it('stops early when the validation loss stops improving and keeps the best epoch', async () => {
    const { tf } = await loadTf();
    const spec = autoencoderSpec(3, [3]);
    const model = buildDenseNet(tf, spec, 3);
    const x = rows(6);
    const seen: number[] = [];
    const result = await trainDenseNet(tf, model, x, x, { epochs: 400, patience: 3, learningRate: 0.05, seed: 3 }, (p) => seen.push(p.validationLoss));
    expect(result.epochsRun).toBeLessThan(400);
    expect(result.validationLoss).toBe(Math.min(...seen));
    expect(result.trainRows + result.validationRows).toBe(120);
    model.dispose();
  });
});

describe('seeded helpers and scalers', () => {
  it('splits and shuffles deterministically', () => {
    expect(shuffled([1, 2, 3, 4, 5], createRng(9))).toEqual(shuffled([1, 2, 3, 4, 5], createRng(9)));
    const split = splitIndices(10, 0.2, 'tail', 0);
    expect(split.validation).toEqual([8, 9]);
  });

  it('scales and inverts both kinds, with a floor for flat signals', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 40 }), (data) => {
        for (const kind of ['standard', 'robust'] as const) {
          const scaler = fitScaler(data, { kind, relativeFloor: 0.001 });
          for (const row of data) {
            const back = invertScaler(scaler, applyScaler(scaler, row));
            back.forEach((v, j) => expect(v).toBeCloseTo(row[j] ?? 0, 4));
          }
          scaler.scale.forEach((s) => expect(s).toBeGreaterThan(0));
        }
      }),
      { numRuns: 50 },
    );
    expect(fitScaler([[80], [80], [80]], { kind: 'standard', relativeFloor: 0.01 }).scale[0]).toBeCloseTo(0.8);
  });
});
