import type { SignalConfig } from '../config/schema.js';
import type { PlantWindow } from '../contract/ports.js';
import type { StageId } from '../contract/plant.js';
import type { Bundle } from '../onnx/bundle.js';
import { autoencoderSpec, buildDenseNet } from '../training/models.js';
import { createRng, shuffled } from '../training/random.js';
import { fitScaler, quantile, type Scaler } from '../training/scaler.js';
import type { LoadedTf } from '../training/tf.js';
import { trainDenseNet, type TrainProgress } from '../training/train.js';
import { writeModelBundle } from './bundle-writer.js';
import { rowsFromWindows, toPlantInputs } from './dataset.js';
import { autoencoderInputs, type FeatureRef } from './specs.js';
import type { LearntFrom } from '../onnx/manifest.js';
import type { PlantInput } from '../inference/features.js';
import { maxOf, minOf } from '../lib/extent.js';

export interface StageTrainingContext {
  readonly loaded: LoadedTf;
  readonly signals: readonly SignalConfig[];
  readonly train: readonly PlantWindow[];
  readonly heldOut: readonly PlantWindow[];
  readonly source: string;
  readonly modelsDir: string;
  readonly version: string;
  readonly seed: number;
  readonly createdAt?: string;
  readonly maxRows: number;
  readonly onEpoch?: (model: string, progress: TrainProgress) => void;
  /** Plant history: the span and signal ranges a bundle of these inputs learnt from (its manifest's `learntFrom`). */
  readonly learntFrom?: (refs: readonly FeatureRef[], heldOutWindows: number) => LearntFrom;
}

/** Score margin over the largest training score: held-out normal data must stay below it. */
export const THRESHOLD_MARGIN = 1.5;

/**
 * Per-column floor on the scale: 0.5 % of the signal's measuring span for means, so a signal that
 * hardly moved in training (a pump state, a clipped analyzer) does not turn noise into huge errors.
 */
function floorScaler(scaler: Scaler, floors: readonly number[]): Scaler {
  return { ...scaler, scale: scaler.scale.map((s, j) => Math.max(s, floors[j] ?? 0)) };
}

function subsample<T>(rows: readonly T[], max: number, seed: number): T[] {
  return rows.length <= max ? [...rows] : shuffled(rows, createRng(seed)).slice(0, max);
}

/**
 * The band a window mean stayed in during training (all weathers), widened by a quarter of its width
 * plus 5 % of its level on each side: out-of-band for long is a sensor or a process fault, not weather.
 */
function operatingBands(inputs: readonly PlantInput[], rows: readonly (readonly number[])[]): Record<string, { min: number; max: number }> {
  const bands: Record<string, { min: number; max: number }> = {};
  inputs.forEach((input, j) => {
    if (input.feature !== 'mean') return;
    const column = rows.map((r) => r[j] ?? 0);
    const lo = minOf(column);
    const hi = maxOf(column);
    const pad = 0.25 * (hi - lo) + 0.05 * Math.abs((hi + lo) / 2);
    bands[`${input.stage}.${input.signal}`] = { min: lo - pad, max: hi + pad };
  });
  return bands;
}

export async function trainStageAutoencoder(ctx: StageTrainingContext, stage: StageId, only?: readonly FeatureRef[]): Promise<Bundle | undefined> {
  const refs = only ? [...only] : autoencoderInputs(stage, ctx.signals);
  if (refs.length < 2) return undefined;
  const inputs = toPlantInputs(refs);
  const name = `anomaly-${stage}`;
  const all = rowsFromWindows(ctx.train, inputs).x;
  const held = rowsFromWindows(ctx.heldOut, inputs).x;
  if (all.length < 50 || held.length < 10) throw new Error(`${name}: too few complete windows (${all.length} training, ${held.length} held out)`);
  const x = subsample(all, ctx.maxRows, ctx.seed);
  const span = (signal: string): number => {
    const s = ctx.signals.find((c) => c.stage === stage && c.id === signal);
    return s ? s.max - s.min : 1;
  };
  // Robust scale, floored by a share of the signal's measuring span and by a quarter of its standard
  // deviation (a bimodal signal, e.g. a flow that switches with the weather, has a tiny IQR).
  const std = fitScaler(x, { kind: 'standard' }).scale;
  const floors = inputs.map((i, j) => Math.max(span(i.signal) * (i.feature === 'mean' ? 0.01 : 0.004), 0.25 * (std[j] ?? 0)));
  const scaler = floorScaler(fitScaler(x, { kind: 'robust' }), floors);
  const scaled = x.map((r) => r.map((v, j) => (v - (scaler.center[j] ?? 0)) / (scaler.scale[j] ?? 1)));
  const width = inputs.length;
  const hidden = [Math.max(4, Math.ceil(width * 0.75)), Math.max(2, Math.ceil(width / 3))];
  const spec = autoencoderSpec(width, hidden, 'tanh');
  const { tf } = ctx.loaded;
  const model = buildDenseNet(tf, spec, ctx.seed);
  const result = await trainDenseNet(tf, model, scaled, scaled, { epochs: 100, batchSize: 128, learningRate: 5e-3, patience: 10, validationFraction: 0.2, validationMode: 'random', seed: ctx.seed }, (p) => ctx.onEpoch?.(name, p));
  const squaredErrors = (rows: readonly (readonly number[])[]): number[][] => tf.tidy(() => {
    const t = tf.tensor2d(rows.map((r) => r.map((v, j) => (v - (scaler.center[j] ?? 0)) / (scaler.scale[j] ?? 1))));
    return (model.predict(t) as typeof t).sub(t).square().arraySync() as number[][];
  });
  const score = (rows: readonly (readonly number[])[]): number[] => squaredErrors(rows).map((r) => r.reduce((a, b) => a + b, 0));
  const trainErrors = squaredErrors(all);
  const trainScores = trainErrors.map((r) => r.reduce((a, b) => a + b, 0));
  const inputThresholds = inputs.map((_, j) => Math.max(1e-6, THRESHOLD_MARGIN * maxOf(trainErrors.map((r) => r[j] ?? 0))));
  const threshold = maxOf(trainScores) * THRESHOLD_MARGIN;
  const heldErrors = squaredErrors(held);
  const heldScores = heldErrors.map((r) => r.reduce((a, b) => a + b, 0));
  const falseAlarms = heldErrors.filter((r, i) => (heldScores[i] ?? 0) > threshold || r.some((e, j) => e > (inputThresholds[j] ?? Infinity))).length;
  const bundle = await writeModelBundle(ctx.modelsDir, {
    loaded: ctx.loaded,
    model,
    spec,
    inputScaler: scaler,
    verificationRows: held.slice(0, 32),
    replace: true,
    manifest: {
      name, version: ctx.version, kind: 'autoencoder', inputs: refs, threshold,
      metrics: {
        heldOutWindows: held.length,
        heldOutFalseAlarmRate: falseAlarms / held.length,
        heldOutScoreP50: quantile(heldScores, 0.5),
        heldOutScoreP999: quantile(heldScores, 0.999),
        trainScoreMax: maxOf(trainScores),
        validationLoss: result.validationLoss,
      },
      training: {
        source: ctx.source, rows: x.length, seed: ctx.seed,
        split: { mode: 'random', trainRows: result.trainRows, validationRows: result.validationRows },
        epochs: result.epochsRun, layers: spec.layers.map((l) => ({ units: l.units, activation: l.activation })),
      },
      ...(ctx.learntFrom ? { learntFrom: ctx.learntFrom(refs, held.length) } : {}),
      ...(ctx.createdAt ? { createdAt: ctx.createdAt } : {}),
    },
  }, held.slice(32, 40).length > 0 ? held.slice(32, 40) : held.slice(0, 8), operatingBands(inputs, all), inputThresholds);
  model.dispose();
  return bundle;
}
