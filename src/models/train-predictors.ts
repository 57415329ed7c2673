import type { Bundle } from '../onnx/bundle.js';
import { buildDenseNet, regressorSpec } from '../training/models.js';
import { createRng, shuffled } from '../training/random.js';
import { fitScaler } from '../training/scaler.js';
import { trainDenseNet } from '../training/train.js';
import { writeModelBundle } from './bundle-writer.js';
import { rowsFromWindows, toPlantInputs } from './dataset.js';
import { skillOf } from './metrics.js';
import { PREDICTOR_SPECS, type PredictorSpec } from './specs.js';
import type { StageTrainingContext } from './train-autoencoder.js';

export interface FitQuality {
  readonly r2: number;
  readonly mape: number;
}

/** R^2 and MAPE (%) of one target column; MAPE over rows whose actual value is not ~0. */
export function fitQuality(actual: readonly number[], predicted: readonly number[]): FitQuality {
  const n = actual.length;
  const mean = actual.reduce((a, b) => a + b, 0) / Math.max(1, n);
  let ssRes = 0;
  let ssTot = 0;
  let ape = 0;
  let apeRows = 0;
  const tiny = Math.max(1e-9, Math.abs(mean) * 1e-3);
  for (let i = 0; i < n; i += 1) {
    const y = actual[i] ?? 0;
    const p = predicted[i] ?? 0;
    ssRes += (y - p) ** 2;
    ssTot += (y - mean) ** 2;
    if (Math.abs(y) > tiny) {
      ape += Math.abs((y - p) / y);
      apeRows += 1;
    }
  }
  return { r2: ssTot > 0 ? 1 - ssRes / ssTot : Number.NaN, mape: apeRows > 0 ? (100 * ape) / apeRows : Number.NaN };
}

/** `aerobic.no3_n@+15m`: a target and its horizon, as metrics and `models evaluate` name it. */
export const targetLabel = (t: { stage: string; signal: string; horizonMin: number }): string => `${t.stage}.${t.signal}@+${t.horizonMin}m`;

export const predictorName = (spec: PredictorSpec): string => `predict-${spec.stage}`;

export async function trainStagePredictor(ctx: StageTrainingContext, spec: PredictorSpec): Promise<Bundle> {
  const name = predictorName(spec);
  const inputs = toPlantInputs(spec.inputs);
  const targets = toPlantInputs(spec.targets);
  const all = rowsFromWindows(ctx.train, inputs, targets);
  const held = rowsFromWindows(ctx.heldOut, inputs, targets);
  if (all.x.length < 50 || held.x.length < 10) throw new Error(`${name}: too few complete windows (${all.x.length} training, ${held.x.length} held out)`);
  const order = shuffled(all.x.map((_, i) => i), createRng(ctx.seed)).slice(0, ctx.maxRows);
  const x = order.map((i) => all.x[i] ?? []);
  const y = order.map((i) => all.y[i] ?? []);
  const inputScaler = fitScaler(x, { kind: 'standard', relativeFloor: 1e-3 });
  const outputScaler = fitScaler(y, { kind: 'standard', relativeFloor: 1e-3 });
  const scale = (rows: readonly (readonly number[])[], s: typeof inputScaler): number[][] => rows.map((r) => r.map((v, j) => (v - (s.center[j] ?? 0)) / (s.scale[j] ?? 1)));
  const spec2 = regressorSpec(inputs.length, [16, 8], targets.length, 'tanh');
  const { tf } = ctx.loaded;
  const model = buildDenseNet(tf, spec2, ctx.seed);
  const result = await trainDenseNet(tf, model, scale(x, inputScaler), scale(y, outputScaler), { epochs: 150, batchSize: 128, learningRate: 5e-3, patience: 12, validationFraction: 0.2, validationMode: 'random', seed: ctx.seed }, (p) => ctx.onEpoch?.(name, p));
  const predicted = tf.tidy(() => {
    const out = model.predict(tf.tensor2d(scale(held.x, inputScaler))) as ReturnType<typeof tf.tensor2d>;
    return out.mul(tf.tensor1d(outputScaler.scale)).add(tf.tensor1d(outputScaler.center)).arraySync() as number[][];
  });
  const metrics: Record<string, number> = { heldOutWindows: held.x.length, validationLoss: result.validationLoss };
  let worstR2 = Number.POSITIVE_INFINITY;
  let worstMape = 0;
  targets.forEach((t, j) => {
    const q = fitQuality(held.y.map((r) => r[j] ?? 0), predicted.map((r) => r[j] ?? 0));
    metrics[`r2.${t.signal}`] = q.r2;
    metrics[`mape.${t.signal}`] = q.mape;
    worstR2 = Math.min(worstR2, q.r2);
    worstMape = Math.max(worstMape, q.mape);
  });
  // Skill over persistence per target and horizon, with the metric code `models evaluate` and live skill use.
  let worstSkill = Number.POSITIVE_INFINITY;
  targets.forEach((t, j) => {
    const f = skillOf(predicted.map((r) => r[j] ?? Number.NaN), held.y.map((r) => r[j] ?? Number.NaN), held.now.map((r) => r[j] ?? Number.NaN));
    const label = targetLabel(t);
    metrics[`mae.${label}`] = f.mae;
    metrics[`mse.${label}`] = f.mse;
    metrics[`mseSkill.${label}`] = f.mseSkill;
    if (Number.isFinite(f.mseSkill)) worstSkill = Math.min(worstSkill, f.mseSkill);
  });
  if (Number.isFinite(worstSkill)) metrics['mseSkillMin'] = worstSkill;
  metrics['r2Min'] = worstR2;
  metrics['mapeMax'] = worstMape;
  const bundle = await writeModelBundle(ctx.modelsDir, {
    loaded: ctx.loaded,
    model,
    spec: spec2,
    inputScaler,
    outputScaler,
    verificationRows: held.x.slice(0, 32),
    replace: true,
    manifest: {
      name, version: ctx.version, kind: 'predictor', inputs: [...spec.inputs], targets: [...spec.targets], metrics,
      training: {
        source: ctx.source, rows: x.length, seed: ctx.seed,
        split: { mode: 'random', trainRows: result.trainRows, validationRows: result.validationRows },
        epochs: result.epochsRun, layers: spec2.layers.map((l) => ({ units: l.units, activation: l.activation })),
      },
      ...(ctx.learntFrom ? { learntFrom: ctx.learntFrom([...spec.inputs, ...spec.targets], held.x.length) } : {}),
      ...(ctx.createdAt ? { createdAt: ctx.createdAt } : {}),
    },
  }, held.x.slice(32, 40));
  model.dispose();
  return bundle;
}

export { PREDICTOR_SPECS };
