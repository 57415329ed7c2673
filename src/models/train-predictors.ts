import type { PlantWindow } from '../contract/ports.js';
import type { Bundle } from '../onnx/bundle.js';
import type { Eligibility } from '../onnx/manifest.js';
import { buildDenseNet, regressorSpec } from '../training/models.js';
import { fitRidge } from '../training/ridge.js';
import { fitScaler } from '../training/scaler.js';
import { writeModelBundle } from './bundle-writer.js';
import { rowsFromWindows, toPlantInputs } from './dataset.js';
import { skillOf } from './metrics.js';
import { PREDICTOR_SPECS, SKILL_BAR, SKILL_BAR_HORIZONS_MIN, type PredictorSpec } from './specs.js';
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

/** Ridge penalty on standardised inputs, per row: small, it only steadies the collinear lags. */
const RIDGE_LAMBDA = 1e-3;

/**
 * Twin runs split in time like a plant history: each run (consecutive windows, runs lie days apart) up
 * to `share` of its span from its end goes to `first`, the rest to `later`.
 */
export function runTimeBlocks(windows: readonly PlantWindow[], share: number): { first: PlantWindow[]; later: PlantWindow[] } {
  const first: PlantWindow[] = [];
  const later: PlantWindow[] = [];
  let start = 0;
  for (let i = 1; i <= windows.length; i += 1) {
    const gap = i < windows.length ? (windows[i]?.end ?? 0) - (windows[i - 1]?.end ?? 0) : Number.POSITIVE_INFINITY;
    if (gap <= 86_400_000) continue;
    const run = windows.slice(start, i);
    const a = run[0]?.end ?? 0;
    const cut = (run[run.length - 1]?.end ?? 0) - ((run[run.length - 1]?.end ?? 0) - a) * share;
    for (const w of run) (w.end < cut ? first : later).push(w);
    start = i;
  }
  return { first, later };
}

/**
 * Which targets meet the bar: a target signal is eligible when its skill over persistence is at least
 * SKILL_BAR at every bar horizon; its other horizons are published when it is and they beat persistence.
 */
export function eligibilityOf(skills: readonly { stage: string; signal: string; horizonMin: number; mseSkill: number }[]): Eligibility {
  const targets: Eligibility['targets'] = {};
  const signals = [...new Set(skills.map((s) => `${s.stage}.${s.signal}`))];
  for (const key of signals) {
    const own = skills.filter((s) => `${s.stage}.${s.signal}` === key);
    const failing = SKILL_BAR_HORIZONS_MIN.map((h) => ({ h, s: own.find((o) => o.horizonMin === h) }))
      .filter(({ s }) => s !== undefined && !(s.mseSkill >= SKILL_BAR));
    for (const s of own) {
      const label = targetLabel(s);
      const skill = Number.isFinite(s.mseSkill) ? s.mseSkill : null;
      const fmt = (v: number | undefined): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(3) : 'n/a');
      if (failing.length > 0) {
        targets[label] = { eligible: false, mseSkill: skill, reason: `${key} misses the bar: MSE skill over persistence ${failing.map(({ h, s: f }) => `${fmt(f?.mseSkill)} at ${h} min`).join(', ')} (needs ${SKILL_BAR} at ${SKILL_BAR_HORIZONS_MIN.join(' and ')} min) on the held-out block` };
      } else if (!(s.mseSkill > 0)) {
        targets[label] = { eligible: false, mseSkill: skill, reason: `${label} does not beat persistence on the held-out block (MSE skill ${fmt(s.mseSkill)})` };
      } else {
        targets[label] = { eligible: true, mseSkill: skill, reason: `MSE skill over persistence ${fmt(s.mseSkill)} on the held-out block` };
      }
    }
  }
  return { bar: SKILL_BAR, barHorizonsMin: [...SKILL_BAR_HORIZONS_MIN], targets };
}

/**
 * A stage predictor: ridge regression of each target's change over the horizon on standardised window
 * features (recent history, drivers, the plant clock), fitted in closed form, written as a one-layer dense graph; judged per target and horizon
 * on the held-out block against persistence, which decides each target's eligibility.
 */
export async function trainStagePredictor(ctx: StageTrainingContext, spec: PredictorSpec): Promise<Bundle> {
  const name = predictorName(spec);
  const inputs = toPlantInputs(spec.inputs);
  let targetRefs = [...spec.targets];
  let targets = toPlantInputs(targetRefs);
  let all = rowsFromWindows(ctx.train, inputs, targets);
  let held = rowsFromWindows(ctx.heldOut, inputs, targets);
  // A short history cannot judge the longest horizons (a day ahead): they are dropped before the model is.
  while ((all.x.length < 50 || held.x.length < 10) && new Set(targets.map((t) => t.horizonMin)).size > 1) {
    const longest = Math.max(...targets.map((t) => t.horizonMin));
    targetRefs = targetRefs.filter((_, j) => targets[j]?.horizonMin !== longest);
    targets = toPlantInputs(targetRefs);
    all = rowsFromWindows(ctx.train, inputs, targets);
    held = rowsFromWindows(ctx.heldOut, inputs, targets);
  }
  if (all.x.length < 50 || held.x.length < 10) throw new Error(`${name}: too few complete windows (${all.x.length} training, ${held.x.length} held out)`);
  const { x, y } = all;
  // Each target is fitted as its change from the current value (an input): the ridge penalty then pulls
  // towards persistence, never away from it on values outside the training range. Folded back below.
  const own = targets.map((t) => inputs.findIndex((i) => i.stage === t.stage && i.signal === t.signal && i.feature === 'mean' && i.lagMin === 0 && !i.calendar));
  const change = y.map((r, n) => r.map((v, j) => v - ((own[j] ?? -1) >= 0 ? (x[n]?.[own[j] ?? 0] ?? 0) : 0)));
  const inputScaler = fitScaler(x, { kind: 'standard', relativeFloor: 1e-3, absoluteFloor: 1e-6 });
  // Scaled by the targets' own spread (a change may hardly vary: a ramp), so the folded weights stay near 1 in float32.
  const levelScale = fitScaler(y, { kind: 'standard', relativeFloor: 1e-3, absoluteFloor: 1e-6 }).scale;
  const changeScaler = { ...fitScaler(change, { kind: 'standard' }), scale: levelScale };
  const scale = (rows: readonly (readonly number[])[], s: typeof inputScaler): number[][] => rows.map((r) => r.map((v, j) => (v - (s.center[j] ?? 0)) / (s.scale[j] ?? 1)));
  const kernel = fitRidge(scale(x, inputScaler), scale(change, changeScaler), RIDGE_LAMBDA);
  // prediction = change + current value: x_own = center_own + scale_own z_own, in the output's scaled units.
  const outputScaler = { ...changeScaler, center: changeScaler.center.map((c, j) => c + ((own[j] ?? -1) >= 0 ? (inputScaler.center[own[j] ?? 0] ?? 0) : 0)) };
  own.forEach((i, j) => {
    if (i < 0) return;
    const at = i * targets.length + j;
    kernel[at] = (kernel[at] ?? 0) + (inputScaler.scale[i] ?? 1) / (changeScaler.scale[j] ?? 1);
  });
  const spec2 = regressorSpec(inputs.length, [], targets.length, 'linear');
  const { tf } = ctx.loaded;
  const model = buildDenseNet(tf, spec2, ctx.seed);
  model.layers[0]?.setWeights([tf.tensor2d(kernel, [inputs.length, targets.length]), tf.zeros([targets.length])]);
  ctx.onEpoch?.(name, { epoch: 1, epochs: 1, loss: 0, validationLoss: 0 });
  const predicted = tf.tidy(() => {
    const out = model.predict(tf.tensor2d(scale(held.x, inputScaler))) as ReturnType<typeof tf.tensor2d>;
    return out.mul(tf.tensor1d(outputScaler.scale)).add(tf.tensor1d(outputScaler.center)).arraySync() as number[][];
  });
  const metrics: Record<string, number> = { heldOutWindows: held.x.length };
  let worstR2 = Number.POSITIVE_INFINITY;
  let worstMape = 0;
  let worstSkill = Number.POSITIVE_INFINITY;
  const skills: { stage: string; signal: string; horizonMin: number; mseSkill: number }[] = [];
  targets.forEach((t, j) => {
    const actual = held.y.map((r) => r[j] ?? Number.NaN);
    const forecast = predicted.map((r) => r[j] ?? Number.NaN);
    const q = fitQuality(actual, forecast);
    // Skill over persistence per target and horizon, with the metric code `models evaluate` and live skill use.
    const f = skillOf(forecast, actual, held.now.map((r) => r[j] ?? Number.NaN));
    const label = targetLabel(t);
    metrics[`r2.${label}`] = q.r2;
    metrics[`mape.${label}`] = q.mape;
    metrics[`mae.${label}`] = f.mae;
    metrics[`mse.${label}`] = f.mse;
    metrics[`mseSkill.${label}`] = f.mseSkill;
    skills.push({ stage: t.stage, signal: t.signal, horizonMin: t.horizonMin, mseSkill: f.mseSkill });
    worstR2 = Math.min(worstR2, q.r2);
    worstMape = Math.max(worstMape, q.mape);
    if (Number.isFinite(f.mseSkill) && (SKILL_BAR_HORIZONS_MIN as readonly number[]).includes(t.horizonMin)) worstSkill = Math.min(worstSkill, f.mseSkill);
  });
  if (Number.isFinite(worstSkill)) metrics['mseSkillMin'] = worstSkill;
  metrics['r2Min'] = worstR2;
  metrics['mapeMax'] = worstMape;
  const eligibility = eligibilityOf(skills);
  metrics['eligibleTargets'] = Object.values(eligibility.targets).filter((e) => e.eligible).length;
  const bundle = await writeModelBundle(ctx.modelsDir, {
    loaded: ctx.loaded,
    model,
    spec: spec2,
    inputScaler,
    outputScaler,
    verificationRows: held.x.slice(0, 32),
    replace: true,
    manifest: {
      name, version: ctx.version, kind: 'predictor', inputs: [...spec.inputs], targets: targetRefs, metrics, eligibility,
      training: {
        source: `${ctx.source}; ridge regression of each target's change over its horizon (lambda ${RIDGE_LAMBDA} per row) on standardised inputs`, rows: x.length, seed: ctx.seed,
        split: { mode: 'tail', trainRows: x.length, validationRows: held.x.length },
        epochs: 1, layers: spec2.layers.map((l) => ({ units: l.units, activation: l.activation })),
      },
      ...(ctx.learntFrom ? { learntFrom: ctx.learntFrom([...spec.inputs, ...targetRefs], held.x.length) } : {}),
      ...(ctx.createdAt ? { createdAt: ctx.createdAt } : {}),
    },
  }, held.x.slice(32, 40));
  model.dispose();
  return bundle;
}

export { PREDICTOR_SPECS };
