import type { PlantWindow } from '../contract/ports.js';
import type { Bundle } from '../onnx/bundle.js';
import type { Eligibility } from '../onnx/manifest.js';
import { buildDenseNet, regressorSpec } from '../training/models.js';
import { fitRidgeSelected, RIDGE_GRID } from '../training/ridge.js';
import { fitScaler } from '../training/scaler.js';
import { writeModelBundle } from './bundle-writer.js';
import { buildInputVector, windowHistory } from '../inference/features.js';
import { rowsFromWindows, slideOf, toPlantInputs } from './dataset.js';
import { skillOf } from './metrics.js';
import { PREDICTOR_SPECS, SKILL_BAR, SKILL_BAR_HORIZONS_MIN, type FeatureRef, type PredictorSpec } from './specs.js';
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

/** Share of a horizon's training rows (the most recent) that chooses each target's ridge penalty. */
const PENALTY_CHECK_SHARE = 0.25;

const penaltyText = (lambda: number): string => (Number.isFinite(lambda) ? String(lambda) : 'no inputs');

/**
 * Each target's ridge penalty, chosen on the most recent quarter of its training rows (fitted on the
 * older rows, those whose horizon reaches into the check block left out), then refitted on all rows.
 * Too few rows to judge: no inputs at all (persistence plus the mean change).
 */
function fitChange(z: number[][], y: number[][], ends: readonly number[], horizonMs: number): { w: Float32Array; lambdas: number[] } {
  const sorted = [...ends].sort((a, b) => a - b);
  const cut = sorted[Math.floor(sorted.length * (1 - PENALTY_CHECK_SHARE))] ?? Number.POSITIVE_INFINITY;
  const fit = { z: [] as number[][], y: [] as number[][] };
  const check = { z: [] as number[][], y: [] as number[][] };
  ends.forEach((end, i) => {
    const into = end >= cut ? check : end + horizonMs < cut ? fit : undefined;
    into?.z.push(z[i] ?? []);
    into?.y.push(y[i] ?? []);
  });
  if (fit.z.length < 20 || check.z.length < 10) {
    const k = y[0]?.length ?? 0;
    return { w: new Float32Array((z[0]?.length ?? 0) * k), lambdas: Array.from({ length: k }, () => Number.POSITIVE_INFINITY) };
  }
  return fitRidgeSelected(fit, check);
}

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
/**
 * A plant's history: inputs that its windows seldom carry (a slope of a signal read once a window, a lag
 * across its gaps) are dropped, so they do not cost every row; the targets' current values stay.
 */
function usableInputs(ctx: StageTrainingContext, spec: PredictorSpec): PredictorSpec {
  if (!ctx.learntFrom || ctx.train.length === 0) return spec;
  const byEnd = new Map(ctx.train.map((w) => [w.end, w]));
  const history = windowHistory(byEnd, slideOf(ctx.train));
  const step = Math.max(1, Math.floor(ctx.train.length / 2000));
  const keep = spec.inputs.filter((ref) => {
    const input = toPlantInputs([ref]);
    if (spec.targets.some((t) => t.stage === ref.stage && t.signal === ref.signal) && ref.feature === 'mean') return true;
    let seen = 0;
    let ok = 0;
    for (let i = 0; i < ctx.train.length; i += step) {
      const w = ctx.train[i];
      if (!w) continue;
      seen += 1;
      if (buildInputVector(w, input, history).ok) ok += 1;
    }
    return ok >= seen / 2;
  });
  return { ...spec, inputs: keep };
}

export async function trainStagePredictor(ctx: StageTrainingContext, planned: PredictorSpec): Promise<Bundle> {
  const spec = usableInputs(ctx, planned);
  const name = predictorName(spec);
  const inputs = toPlantInputs(spec.inputs);
  const allTargets = toPlantInputs(spec.targets);
  // One row set per horizon: a day-ahead target must not cost the shorter horizons the last day of training.
  // A short history cannot judge the longest horizons: a horizon with too few rows is dropped, not the model.
  const groups = [...new Set(allTargets.map((t) => t.horizonMin))].sort((a, b) => a - b).map((h) => {
    const columns = allTargets.map((t, j) => (t.horizonMin === h ? j : -1)).filter((j) => j >= 0);
    const targets = columns.map((j) => allTargets[j] as (typeof allTargets)[number]);
    return { h, columns, train: rowsFromWindows(ctx.train, inputs, targets), held: rowsFromWindows(ctx.heldOut, inputs, targets) };
  }).filter((g) => g.train.x.length >= 50 && g.held.x.length >= 10);
  const first = groups[0];
  if (!first) {
    const probe = { train: rowsFromWindows(ctx.train, inputs, allTargets.slice(0, 1)), held: rowsFromWindows(ctx.heldOut, inputs, allTargets.slice(0, 1)) };
    throw new Error(`${name}: too few complete windows (${probe.train.x.length} training, ${probe.held.x.length} held out)`);
  }
  const kept = groups.flatMap((g) => g.columns);
  const targetRefs = kept.map((j) => spec.targets[j] as FeatureRef);
  const targets = kept.map((j) => allTargets[j] as (typeof allTargets)[number]);
  const k = targets.length;
  // Each target is fitted as its change from the current value (an input): the ridge penalty then pulls
  // towards persistence, never away from it on values outside the training range. Folded back below.
  const own = targets.map((t) => inputs.findIndex((i) => i.stage === t.stage && i.signal === t.signal && i.feature === 'mean' && i.lagMin === 0 && !i.calendar));
  const inputScaler = fitScaler(first.train.x, { kind: 'standard', relativeFloor: 1e-3, absoluteFloor: 1e-6 });
  const scale = (rows: readonly (readonly number[])[], c: readonly number[], sc: readonly number[]): number[][] => rows.map((r) => r.map((v, j) => (v - (c[j] ?? 0)) / (sc[j] ?? 1)));
  const kernel = new Float32Array(inputs.length * k);
  const outCenter: number[] = [];
  const outScale: number[] = [];
  const penalties: Record<string, number> = {};
  let column = 0;
  for (const g of groups) {
    const ownHere = g.columns.map((_, c) => own[column + c] ?? -1);
    const change = g.train.y.map((r, n) => r.map((v, c) => v - ((ownHere[c] ?? -1) >= 0 ? (g.train.x[n]?.[ownHere[c] ?? 0] ?? 0) : 0)));
    // Scaled by the targets' own spread (a change may hardly vary: a ramp), so the folded weights stay near 1 in float32.
    const levelScale = fitScaler(g.train.y, { kind: 'standard', relativeFloor: 1e-3, absoluteFloor: 1e-6 }).scale;
    const changeCenter = fitScaler(change, { kind: 'standard' }).center;
    const { w, lambdas } = fitChange(scale(g.train.x, inputScaler.center, inputScaler.scale), scale(change, changeCenter, levelScale), g.train.ends, g.h * 60_000);
    g.columns.forEach((_, c) => {
      const j = column + c;
      penalties[targetLabel(targets[j] as (typeof targets)[number])] = lambdas[c] ?? Number.POSITIVE_INFINITY;
      for (let i = 0; i < inputs.length; i += 1) kernel[i * k + j] = w[i * g.columns.length + c] ?? 0;
      const oi = ownHere[c] ?? -1;
      // prediction = change + current value: x_own = center_own + scale_own z_own, in the output's scaled units.
      if (oi >= 0) kernel[oi * k + j] = (kernel[oi * k + j] ?? 0) + (inputScaler.scale[oi] ?? 1) / (levelScale[c] ?? 1);
      outCenter.push((changeCenter[c] ?? 0) + (oi >= 0 ? (inputScaler.center[oi] ?? 0) : 0));
      outScale.push(levelScale[c] ?? 1);
    });
    column += g.columns.length;
  }
  const outputScaler = { kind: 'standard' as const, center: outCenter, scale: outScale };
  const spec2 = regressorSpec(inputs.length, [], k, 'linear');
  const { tf } = ctx.loaded;
  const model = buildDenseNet(tf, spec2, ctx.seed);
  model.layers[0]?.setWeights([tf.tensor2d(kernel, [inputs.length, k]), tf.zeros([k])]);
  ctx.onEpoch?.(name, { epoch: 1, epochs: 1, loss: 0, validationLoss: 0 });
  const metrics: Record<string, number> = { heldOutWindows: first.held.x.length };
  // The penalty per target (per row of standardised inputs); -1 where no input helped on the check block.
  for (const [label, lambda] of Object.entries(penalties)) metrics[`ridgeLambda.${label}`] = Number.isFinite(lambda) ? lambda : -1;
  let worstR2 = Number.POSITIVE_INFINITY;
  let worstMape = 0;
  let worstSkill = Number.POSITIVE_INFINITY;
  const skills: { stage: string; signal: string; horizonMin: number; mseSkill: number }[] = [];
  column = 0;
  for (const g of groups) {
    const predicted = tf.tidy(() => {
      const out = model.predict(tf.tensor2d(scale(g.held.x, inputScaler.center, inputScaler.scale))) as ReturnType<typeof tf.tensor2d>;
      return out.mul(tf.tensor1d(outScale)).add(tf.tensor1d(outCenter)).arraySync() as number[][];
    });
    g.columns.forEach((_, c) => {
      const j = column + c;
      const t = targets[j] as (typeof targets)[number];
      const actual = g.held.y.map((r) => r[c] ?? Number.NaN);
      const forecast = predicted.map((r) => r[j] ?? Number.NaN);
      const q = fitQuality(actual, forecast);
      // Skill over persistence per target and horizon, with the metric code `models evaluate` and live skill use.
      const f = skillOf(forecast, actual, g.held.now.map((r) => r[c] ?? Number.NaN));
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
    column += g.columns.length;
  }
  if (Number.isFinite(worstSkill)) metrics['mseSkillMin'] = worstSkill;
  metrics['r2Min'] = worstR2;
  metrics['mapeMax'] = worstMape;
  const eligibility = eligibilityOf(skills);
  metrics['eligibleTargets'] = Object.values(eligibility.targets).filter((e) => e.eligible).length;
  const rows = first.train.x.length;
  const bundle = await writeModelBundle(ctx.modelsDir, {
    loaded: ctx.loaded,
    model,
    spec: spec2,
    inputScaler,
    outputScaler,
    verificationRows: first.held.x.slice(0, 32),
    replace: true,
    manifest: {
      name, version: ctx.version, kind: 'predictor', inputs: [...spec.inputs], targets: targetRefs, metrics, eligibility,
      training: {
        source: `${ctx.source}; ridge regression of each target's change over its horizon on standardised inputs, rows per horizon, `
          + `each target's penalty per row chosen from ${RIDGE_GRID.map(penaltyText).join(', ')} on the most recent ${PENALTY_CHECK_SHARE * 100} % of its training rows `
          + `(chosen: ${Object.entries(penalties).map(([label, lambda]) => `${label} ${penaltyText(lambda)}`).join(', ')})`, rows, seed: ctx.seed,
        split: { mode: 'tail', trainRows: rows, validationRows: first.held.x.length },
        epochs: 1, layers: spec2.layers.map((l) => ({ units: l.units, activation: l.activation })),
      },
      ...(ctx.learntFrom ? { learntFrom: ctx.learntFrom([...spec.inputs, ...targetRefs], first.held.x.length) } : {}),
      ...(ctx.createdAt ? { createdAt: ctx.createdAt } : {}),
    },
  }, first.held.x.slice(32, 40));
  model.dispose();
  return bundle;
}

export { PREDICTOR_SPECS };
