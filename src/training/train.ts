import type * as TfModule from '@tensorflow/tfjs';
import { createRng, shuffled, splitIndices } from './random.js';
import type { Tf } from './tf.js';

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Epochs without a better validation loss before training stops and the best weights return. */
  readonly patience: number;
  readonly validationFraction: number;
  readonly validationMode: 'tail' | 'random';
  readonly seed: number;
}

export const defaultTrainOptions: TrainOptions = {
  epochs: 200,
  batchSize: 32,
  learningRate: 3e-3,
  patience: 15,
  validationFraction: 0.2,
  validationMode: 'random',
  seed: 42,
};

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly validationLoss: number;
}

export interface TrainResult {
  readonly epochsRun: number;
  readonly bestEpoch: number;
  readonly trainLoss: number;
  readonly validationLoss: number;
  readonly trainRows: number;
  readonly validationRows: number;
}

function meanSquared(tf: Tf, model: TfModule.Sequential, x: TfModule.Tensor2D, y: TfModule.Tensor2D): number {
  return tf.tidy(() => {
    const prediction = model.predict(x) as TfModule.Tensor;
    return tf.losses.meanSquaredError(y, prediction).dataSync()[0] ?? Number.NaN;
  });
}

/**
 * Mini-batch Adam on MSE with our own loop: tfjs `fit` shuffles with Math.random, which would make two
 * runs with the same seed differ. Restores the weights of the best validation epoch.
 */
export async function trainDenseNet(
  tf: Tf,
  model: TfModule.Sequential,
  x: readonly (readonly number[])[],
  y: readonly (readonly number[])[],
  options: Partial<TrainOptions> = {},
  onProgress?: (progress: TrainProgress) => void,
): Promise<TrainResult> {
  const o = { ...defaultTrainOptions, ...options };
  if (x.length !== y.length || x.length < 2) throw new Error(`training needs at least 2 rows with targets (got ${x.length} inputs, ${y.length} targets)`);
  const split = splitIndices(x.length, o.validationFraction, o.validationMode, o.seed);
  const trainX = tf.tensor2d(split.train.map((i) => [...(x[i] ?? [])]));
  const trainY = tf.tensor2d(split.train.map((i) => [...(y[i] ?? [])]));
  const hasValidation = split.validation.length > 0;
  const valX = hasValidation ? tf.tensor2d(split.validation.map((i) => [...(x[i] ?? [])])) : trainX;
  const valY = hasValidation ? tf.tensor2d(split.validation.map((i) => [...(y[i] ?? [])])) : trainY;
  const optimizer = tf.train.adam(o.learningRate);
  const rng = createRng(o.seed ^ 0x5bd1e995);
  const order = split.train.map((_, i) => i);
  let best = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestWeights: TfModule.Tensor[] = model.getWeights().map((w) => w.clone());
  let epoch = 0;
  let trainLoss = Number.NaN;
  try {
    for (epoch = 1; epoch <= o.epochs; epoch += 1) {
      const batches = shuffled(order, rng);
      for (let start = 0; start < batches.length; start += o.batchSize) {
        const idx = tf.tensor1d(batches.slice(start, start + o.batchSize), 'int32');
        tf.tidy(() => {
          const bx = tf.gather(trainX, idx);
          const by = tf.gather(trainY, idx);
          optimizer.minimize(() => tf.losses.meanSquaredError(by, model.predict(bx) as TfModule.Tensor) as TfModule.Scalar);
        });
        idx.dispose();
      }
      trainLoss = meanSquared(tf, model, trainX, trainY);
      const validationLoss = meanSquared(tf, model, valX, valY);
      onProgress?.({ epoch, epochs: o.epochs, loss: trainLoss, validationLoss });
      if (validationLoss < best - 1e-7) {
        best = validationLoss;
        bestEpoch = epoch;
        bestWeights.forEach((w) => w.dispose());
        bestWeights = model.getWeights().map((w) => w.clone());
      } else if (epoch - bestEpoch >= o.patience) {
        break;
      }
      // let the event loop breathe (progress bars, signals) between epochs
      if (epoch % 10 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    model.setWeights(bestWeights);
    return {
      epochsRun: Math.min(epoch, o.epochs),
      bestEpoch,
      trainLoss: meanSquared(tf, model, trainX, trainY),
      validationLoss: best,
      trainRows: split.train.length,
      validationRows: split.validation.length,
    };
  } finally {
    bestWeights.forEach((w) => w.dispose());
    optimizer.dispose();
    trainX.dispose();
    trainY.dispose();
    if (hasValidation) {
      valX.dispose();
      valY.dispose();
    }
  }
}
