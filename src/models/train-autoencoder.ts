import type { SignalConfig } from '../config/schema.js';
import type { PlantWindow } from '../contract/ports.js';
import type { StageId } from '../contract/plant.js';
import type { Bundle } from '../onnx/bundle.js';
import { defaultDetectorSettings, fitDetector, type DetectorSettings, type FittedDetector } from '../anomaly/core.js';
import { judgeColumns } from '../anomaly/score.js';
import { inputLabel } from '../onnx/manifest.js';
import { GRAPH_INPUT } from '../onnx/writer.js';
import { createRng, shuffled } from '../training/random.js';
import { fitScaler, quantile } from '../training/scaler.js';
import type { LoadedTf } from '../training/tf.js';
import type { TrainProgress } from '../training/train.js';
import { writeModelBundle } from './bundle-writer.js';
import { rowsFromWindows, toPlantInputs } from './dataset.js';
import { autoencoderInputs, type FeatureRef } from './specs.js';
import type { LearntFrom } from '../onnx/manifest.js';
import type { PlantInput } from '../inference/features.js';
import { maxOf, minOf } from '../lib/extent.js';
import type { JudgedAlarm } from './store-data.js';
import { episodeOf, falseAlarmWeight, stageVerdicts, type VerdictsUsed } from './verdicts.js';

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
  /** Overrides of STAGE_DETECTOR_SETTINGS (evaluations of other settings). */
  readonly detector?: Partial<DetectorSettings>;
  /** Alarm episodes operators judged over the data's span (plant history): labels for the stage detectors. */
  readonly verdicts?: readonly JudgedAlarm[];
  /** How far before its raise an alarm's condition began (alarmLeadMs). */
  readonly alarmLeadMs?: number;
}

/**
 * The stage detectors' settings in the one detector family (src/anomaly/core.ts): a plant window's
 * features are already 5-minute means, so no further input or score smoothing; each input's scaled
 * reconstruction error is divided by its largest over the training windows (`max` aggregate,
 * residualSpread `max`), so every input is held to its own training range of errors; threshold at the
 * largest training score (1) times a margin of sqrt(1.5) on the error (1.5 on its square); scale floored
 * by the signal's measuring span. Measured against the ensemble of `anomaly fit` and a sum of scaled
 * squared errors on eval/twin-faults (docs/evaluation.md).
 */
export const STAGE_DETECTOR_SETTINGS: DetectorSettings = {
  ...defaultDetectorSettings,
  inputWindow: 1,
  scoreWindow: 1,
  persistence: 1,
  hold: 0,
  thresholdQuantile: 1,
  thresholdMargin: 1.22,
  aggregate: 'max',
  residualSpread: 'max',
  driftRatio: Number.POSITIVE_INFINITY,
  scaler: 'robust',
  relativeFloor: 0,
  epochs: 100,
  patience: 10,
  learningRate: 5e-3,
  batchSize: 128,
  validationFraction: 0.2,
};

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

/** The held-out windows judged by the bundle's own scoring, as `anomaly score` and the daemon judge them. */
async function heldOutVerdicts(onnx: Uint8Array, rows: readonly (readonly number[])[], fitted: FittedDetector): Promise<{ scores: number[]; flags: boolean[] }> {
  const width = fitted.columns.length;
  const columns = Array.from({ length: width }, (_, j) => Float64Array.from(rows, (r) => r[j] ?? Number.NaN));
  return judgeColumns(onnx, GRAPH_INPUT, columns, rows.length, { post: fitted.post, threshold: fitted.threshold, center: fitted.scaler.center });
}

/** A stage's training and held-out rows with the operators' verdicts applied (see labelRows). */
interface LabelledRows {
  /** Normal training rows, false-alarm windows included once: scaler bands, residual spread and threshold. */
  readonly all: number[][];
  /** The network's rows: a seeded sample of the other normal rows, plus each false-alarm window `weight` times. */
  readonly network: number[][];
  readonly falseAlarmRows: number[][];
  readonly held: number[][];
  readonly used: VerdictsUsed;
}

/**
 * The operators' verdicts on the stage's alarms as labels: windows of a confirmed event are left out of
 * the normal training and held-out data (the detector must not learn them as normal); windows of a
 * false alarm stay in the training data whatever else would drop them, are repeated in the network's
 * rows so that they weigh FALSE_ALARM_SHARE of them, and are held below the threshold (fitDetector's
 * markedNormal). Only windows of the training block are learnt from; the held-out block stays unseen.
 */
function labelRows(ctx: StageTrainingContext, stage: StageId, inputs: readonly PlantInput[]): LabelledRows {
  const train = rowsFromWindows(ctx.train, inputs);
  const heldOut = rowsFromWindows(ctx.heldOut, inputs);
  const { falseAlarms, confirmed } = stageVerdicts(ctx.verdicts ?? [], stage);
  const lead = ctx.alarmLeadMs ?? 0;
  const events = new Set<string>();
  const falseEpisodes = new Set<string>();
  let confirmedWindows = 0;
  const episodeKey = (a: JudgedAlarm): string => `${a.alarmId}@${a.start}`;
  const normal: number[][] = [];
  const falseAlarmRows: number[][] = [];
  train.x.forEach((row, i) => {
    const end = train.ends[i] ?? 0;
    const event = episodeOf(end, confirmed, lead);
    if (event) {
      events.add(episodeKey(event));
      confirmedWindows += 1;
      return;
    }
    const falseAlarm = episodeOf(end, falseAlarms, lead);
    if (falseAlarm) {
      falseEpisodes.add(episodeKey(falseAlarm));
      falseAlarmRows.push(row);
    } else normal.push(row);
  });
  const held = heldOut.x.filter((_, i) => {
    const event = episodeOf(heldOut.ends[i] ?? 0, confirmed, lead);
    if (event) {
      events.add(episodeKey(event));
      confirmedWindows += 1;
    }
    return !event;
  });
  const sample = subsample(normal, Math.max(1, ctx.maxRows - falseAlarmRows.length), ctx.seed);
  const weight = falseAlarmWeight(falseAlarmRows.length, sample.length);
  const network = [...sample, ...Array.from({ length: weight }, () => falseAlarmRows).flat()];
  return {
    all: [...normal, ...falseAlarmRows],
    network,
    falseAlarmRows,
    held,
    used: { falseAlarms: falseEpisodes.size, falseAlarmWindows: falseAlarmRows.length, falseAlarmWeight: weight, confirmed: events.size, confirmedWindows },
  };
}

/**
 * A stage's detector, fitted by the detector family's core (fitDetector) on the stage's window features:
 * the network on a seeded sample of at most `maxRows` training windows, residual spread and threshold
 * from every training window; held-out windows judged by the same scoring. The operators' verdicts
 * label the windows first (labelRows).
 */
export async function trainStageAutoencoder(ctx: StageTrainingContext, stage: StageId, only?: readonly FeatureRef[]): Promise<Bundle | undefined> {
  const refs = only ? [...only] : autoencoderInputs(stage, ctx.signals);
  if (refs.length < 2) return undefined;
  const inputs = toPlantInputs(refs);
  const name = `anomaly-${stage}`;
  const { all, network: x, falseAlarmRows, held, used } = labelRows(ctx, stage, inputs);
  if (all.length < 50 || held.length < 10) throw new Error(`${name}: too few complete windows (${all.length} training, ${held.length} held out)`);
  const span = (signal: string): number => {
    const s = ctx.signals.find((c) => c.stage === stage && c.id === signal);
    return s ? s.max - s.min : 1;
  };
  // Robust scale, floored by a share of the signal's measuring span and by a quarter of its standard
  // deviation (a bimodal signal, e.g. a flow that switches with the weather, has a tiny IQR).
  const std = fitScaler(x, { kind: 'standard' }).scale;
  const scaleFloors = inputs.map((i, j) => Math.max(span(i.signal) * (i.feature === 'mean' ? 0.01 : 0.004), 0.25 * (std[j] ?? 0)));
  const width = inputs.length;
  const settings: DetectorSettings = { ...STAGE_DETECTOR_SETTINGS, hidden: [Math.max(4, Math.ceil(width * 0.75)), Math.max(2, Math.ceil(width / 3))], ...ctx.detector };
  const columns = refs.map((r) => inputLabel(r));
  const fitted = await fitDetector({ rows: x, calibrationRows: all, markedNormal: falseAlarmRows, columns, explicit: true, scaleFloors }, settings, {
    name, seed: ctx.seed, loaded: ctx.loaded, onProgress: (p) => ctx.onEpoch?.(name, p),
  });
  try {
    const judged = await heldOutVerdicts(fitted.onnx, held, fitted);
    const flagged = judged.flags.filter(Boolean).length;
    return await writeModelBundle(ctx.modelsDir, {
      loaded: ctx.loaded,
      model: fitted.model,
      spec: fitted.spec,
      inputScaler: fitted.scaler,
      verificationRows: fitted.verificationRows,
      replace: true,
      manifest: {
        name, version: ctx.version, kind: 'autoencoder', inputs: refs, threshold: fitted.threshold, postprocess: fitted.post,
        metrics: {
          heldOutWindows: held.length,
          heldOutFalseAlarmRate: flagged / held.length,
          heldOutScoreP50: quantile(judged.scores, 0.5),
          heldOutScoreP999: quantile(judged.scores, 0.999),
          trainScoreMax: fitted.trainingScoreMax,
          trainingFlagRate: fitted.trainingFlagRate,
          validationLoss: fitted.train.validationLoss,
          ...(Number.isFinite(fitted.markedNormalScoreMax) ? { falseAlarmScoreMax: fitted.markedNormalScoreMax } : {}),
        },
        training: {
          source: ctx.source, rows: x.length, seed: ctx.seed,
          split: { mode: 'random', trainRows: fitted.train.trainRows, validationRows: fitted.train.validationRows },
          epochs: fitted.train.epochsRun, layers: fitted.spec.layers.map((l) => ({ units: l.units, activation: l.activation })),
          rowsUsed: { network: x.length, scalerAndThreshold: all.length, heldOut: held.length },
          ...(ctx.verdicts ? { verdicts: used } : {}),
        },
        ...(ctx.learntFrom ? { learntFrom: ctx.learntFrom(refs, held.length) } : {}),
        ...(ctx.createdAt ? { createdAt: ctx.createdAt } : {}),
      },
    }, held.slice(32, 40).length > 0 ? held.slice(32, 40) : held.slice(0, 8), operatingBands(inputs, all));
  } finally {
    fitted.dispose();
  }
}
