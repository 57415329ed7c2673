import { exportVerifiedOnnx } from '../onnx/export.js';
import type { DetectorPostprocess } from '../onnx/manifest.js';
import { autoencoderSpec, buildDenseNet, type Activation, type DenseNetSpec } from '../training/models.js';
import { splitIndices } from '../training/random.js';
import { applyScaler, fitScaler, type Scaler } from '../training/scaler.js';
import { loadTf, type LoadedTf } from '../training/tf.js';
import { trainDenseNet, type TrainProgress, type TrainResult } from '../training/train.js';
import type * as TfModule from '@tensorflow/tfjs';
import { graphRows, smoothedScores, warmupRows } from './detector.js';
import { aggregateScores, applyPostprocess, detectorThreshold, driftToNoise, residualMax, residualRms, smoothInputs } from './postprocess.js';

type FittedPostprocess = 'residualScale' | 'driftExcluded' | 'inputFilter' | 'aggregate' | 'hold' | 'residualWeight' | 'driftRatio';

/**
 * The settings of the one detector family: `anomaly fit` on a CSV and the daemon's stage detectors
 * (`wwtp-edge train autoencoder`) are both fitted by `fitDetector` with settings of this shape and scored
 * by the same steps (postprocess.ts), driven by the manifest's `postprocess`.
 */
export interface DetectorSettings extends Omit<DetectorPostprocess, FittedPostprocess> {
  readonly inputFilter: 'mean' | 'ewma';
  readonly aggregate: 'sum' | 'max' | 'ensemble';
  /** `ensemble` only: weight of the autoencoder's normalised residual against the standard score. */
  readonly residualWeight: number;
  /**
   * `sum` only: divide each input's squared error by its training mean square before summing, so
   * every input weighs by its own normal spread (the other aggregates always do).
   */
  readonly residualScaled: boolean;
  /**
   * The per-input residual scale (`residualScale`): the training residuals' RMS, or their largest value,
   * so that with the `max` aggregate every input's own training maximum is 1 (per-input limits).
   */
  readonly residualSpread: 'rms' | 'max';
  readonly hold: number;
  /**
   * Columns whose smoothed level travelled more than this many noise widths along a trend during the
   * training rows are left out (see driftToNoise); Infinity keeps every column.
   */
  readonly driftRatio: number;
  /** Encoder widths down to the bottleneck; the decoder mirrors them. Empty: 2n then 3n/4 for n inputs. */
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** Input scaler folded into the graph: mean/sd, or median/IQR (robust to the weather's long tails). */
  readonly scaler: 'standard' | 'robust';
  /** Scale floor as a share of |training centre| (sensor noise floor; keeps slow drift from dominating). */
  readonly relativeFloor: number;
  readonly epochs: number;
  readonly patience: number;
  readonly learningRate: number;
  readonly batchSize: number;
  readonly validationFraction: number;
}

export const defaultDetectorSettings: DetectorSettings = {
  inputWindow: 39,
  scoreWindow: 1,
  persistence: 1,
  thresholdQuantile: 1,
  thresholdMargin: 2.1,
  inputFilter: 'ewma',
  aggregate: 'ensemble',
  residualWeight: 0.1,
  residualScaled: false,
  residualSpread: 'rms',
  hold: 0,
  driftRatio: 3,
  hidden: [],
  activation: 'tanh',
  scaler: 'standard',
  relativeFloor: 0.003,
  epochs: 150,
  patience: 15,
  learningRate: 3e-3,
  batchSize: 32,
  validationFraction: 0.2,
};

/** Wide first layer, bottleneck a bit narrower than the inputs: correlated signals must be explained. */
export function defaultHidden(inputs: number): number[] {
  return [Math.max(4, 2 * inputs), Math.max(2, Math.ceil(0.75 * inputs))];
}

/** The postprocess a detector with these settings records before fitting (fitted fields come later). */
export function basePostprocess(s: DetectorSettings): DetectorPostprocess {
  return {
    inputWindow: s.inputWindow,
    scoreWindow: s.scoreWindow,
    persistence: s.persistence,
    thresholdQuantile: s.thresholdQuantile,
    thresholdMargin: s.thresholdMargin,
    inputFilter: s.inputFilter,
    aggregate: s.aggregate,
    hold: s.hold,
    ...(s.aggregate === 'ensemble' ? { residualWeight: s.residualWeight } : {}),
    ...(Number.isFinite(s.driftRatio) ? { driftRatio: s.driftRatio } : {}),
  };
}

/** Columns to model: all but those whose level drifted through the training rows (at least one stays). */
export function keptColumns(features: readonly (readonly number[])[], raw: readonly (readonly number[])[], driftRatio: number): number[] {
  const width = raw[0]?.length ?? 0;
  if (!Number.isFinite(driftRatio)) return Array.from({ length: width }, (_, j) => j);
  const ratio = Array.from({ length: width }, (_, j) => driftToNoise(features.map((r) => r[j] ?? 0), raw.map((r) => r[j] ?? 0)));
  const kept = ratio.flatMap((v, j) => (v > driftRatio ? [] : [j]));
  if (kept.length > 0) return kept;
  let best = 0;
  ratio.forEach((v, j) => {
    if (v < (ratio[best] ?? Infinity)) best = j;
  });
  return [best];
}

export interface DetectorData {
  /** Raw training rows, one column per entry of `columns`; time-ordered when the input window is above 1. */
  readonly rows: readonly (readonly number[])[];
  readonly columns: readonly string[];
  /**
   * Rows the residual spread and the threshold are taken from (default `rows`): e.g. every training
   * window when the weights were fitted on a subsample of them.
   */
  readonly calibrationRows?: readonly (readonly number[])[];
  /** Columns named by the user are modelled as asked: the drift guard only prunes an automatic choice. */
  readonly explicit?: boolean;
  /** Per-column lowest scale in engineering units (e.g. a share of the signal's measuring span). */
  readonly scaleFloors?: readonly number[];
  /**
   * Rows an operator marked normal (windows of an alarm judged false): also among the calibration rows;
   * the threshold is raised, if need be, so that none of them scores above it (calibrateDetector).
   */
  readonly markedNormal?: readonly (readonly number[])[];
}

export interface FitDetectorOptions {
  readonly name: string;
  readonly seed: number;
  readonly loaded?: LoadedTf;
  readonly onProgress?: (progress: TrainProgress) => void;
}

export interface FittedDetector {
  readonly loaded: LoadedTf;
  readonly model: TfModule.Sequential;
  readonly spec: DenseNetSpec;
  readonly scaler: Scaler;
  /** Verified ONNX graph (outputs score, squared_error, reconstruction, standardized). */
  readonly onnx: Uint8Array;
  readonly maxAbsDiff: number;
  /** Held-out raw rows the graph was verified on. */
  readonly verificationRows: readonly (readonly number[])[];
  /** Indices into the given columns that are modelled, and their names. */
  readonly kept: readonly number[];
  readonly columns: readonly string[];
  readonly post: DetectorPostprocess;
  readonly threshold: number;
  /** Smoothed scores of the calibration rows after the warm-up: what the threshold was taken from. */
  readonly trainingScores: readonly number[];
  readonly trainingFlagRate: number;
  readonly trainingScoreMax: number;
  /** Largest score of the rows marked normal (NaN without any). */
  readonly markedNormalScoreMax: number;
  readonly train: TrainResult;
  /** Releases the TensorFlow.js model. */
  dispose(): void;
}

function maxOf(values: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}

function fitInputScaler(features: readonly (readonly number[])[], s: DetectorSettings, floors: readonly number[] | undefined): Scaler {
  const scaler = fitScaler(features, { kind: s.scaler, relativeFloor: s.relativeFloor });
  if (!floors) return scaler;
  return { ...scaler, scale: scaler.scale.map((v, j) => Math.max(v, floors[j] ?? 0)) };
}

export interface CalibratedDetector {
  readonly post: DetectorPostprocess;
  readonly threshold: number;
  readonly trainingScores: readonly number[];
  readonly trainingFlagRate: number;
  readonly trainingScoreMax: number;
  /** Largest score of the rows marked normal (NaN without any), before the threshold was set above it. */
  readonly markedNormalScoreMax: number;
}

/**
 * Per-input residual spread and threshold of a fitted graph from training rows only, through the
 * exported graph and the same scoring steps as `anomaly score` and the daemon. Rows marked normal
 * (scored as one run of rows of their own) keep the threshold above their largest score: the
 * threshold is at least that score times the margin, so a judged false alarm falls below it.
 */
export async function calibrateDetector(onnx: Uint8Array, rows: readonly (readonly number[])[], s: DetectorSettings, driftExcluded: readonly string[] = [], markedNormal: readonly (readonly number[])[] = []): Promise<CalibratedDetector> {
  const base = basePostprocess(s);
  const warmup = warmupRows(base);
  const width = rows[0]?.length ?? 0;
  const out = await graphRows(onnx, rows, base);
  const trainingErrors = out.squaredError.subarray(warmup * width);
  const post: DetectorPostprocess = {
    ...base,
    ...(s.aggregate !== 'sum' || s.residualScaled ? { residualScale: s.residualSpread === 'max' ? residualMax(trainingErrors, width) : residualRms(trainingErrors, width) } : {}),
    ...(driftExcluded.length > 0 ? { driftExcluded: [...driftExcluded] } : {}),
  };
  const trainingScores = smoothedScores(aggregateScores(out, width, post), post).slice(warmup);
  let markedNormalScoreMax = Number.NaN;
  if (markedNormal.length > 0) {
    const marked = await graphRows(onnx, markedNormal, base);
    markedNormalScoreMax = maxOf(smoothedScores(aggregateScores(marked, width, post), post).slice(Math.min(warmup, markedNormal.length - 1)));
  }
  const threshold = Math.max(detectorThreshold(trainingScores, post), Number.isFinite(markedNormalScoreMax) ? markedNormalScoreMax * post.thresholdMargin : 0);
  const flagged = applyPostprocess(trainingScores, threshold, { ...post, scoreWindow: 1 }).flags.filter(Boolean).length;
  return { post, threshold, trainingScores, trainingFlagRate: flagged / Math.max(1, trainingScores.length), trainingScoreMax: maxOf(trainingScores), markedNormalScoreMax };
}

/**
 * The fitting core of every detector: input smoothing, drift guard, scaler, dense autoencoder with early
 * stopping, a verified ONNX graph, then the per-input residual spread and the threshold (training
 * quantile x margin) from the calibration rows, run through the exported graph and the same scoring
 * steps as `anomaly score` and the daemon. Throws when the rows leave fewer than 20 after the warm-up.
 */
export async function fitDetector(data: DetectorData, s: DetectorSettings, options: FitDetectorOptions): Promise<FittedDetector> {
  const base = basePostprocess(s);
  const warmup = warmupRows(base);
  const usable = data.rows.length - warmup;
  if (usable < 20) throw new Error(`${data.rows.length} training rows leave ${usable} after the ${warmup}-row smoothing warm-up; need at least 20`);
  const allFeatures = smoothInputs(data.rows, base).slice(warmup);
  const kept = data.explicit ? data.columns.map((_, j) => j) : keptColumns(allFeatures, data.rows, s.driftRatio);
  const columns = kept.map((j) => data.columns[j] ?? '');
  const driftExcluded = data.columns.filter((_, j) => !kept.includes(j));
  const pick = (r: readonly number[]): number[] => kept.map((j) => r[j] ?? 0);
  const features = allFeatures.map(pick);
  const calibration = (data.calibrationRows ?? data.rows).map(pick);
  const markedNormal = (data.markedNormal ?? []).map(pick);
  const scaler = fitInputScaler(features, s, data.scaleFloors ? kept.map((j) => data.scaleFloors?.[j] ?? 0) : undefined);
  const scaled = features.map((r) => applyScaler(scaler, r));
  const loaded = options.loaded ?? (await loadTf());
  const hidden = s.hidden.length > 0 ? s.hidden : defaultHidden(columns.length);
  const spec = autoencoderSpec(columns.length, hidden, s.activation);
  const model = buildDenseNet(loaded.tf, spec, options.seed);
  try {
    const trainOptions = { epochs: s.epochs, patience: s.patience, learningRate: s.learningRate, batchSize: s.batchSize, validationFraction: s.validationFraction, validationMode: 'random' as const, seed: options.seed };
    const train = await trainDenseNet(loaded.tf, model, scaled, scaled, trainOptions, options.onProgress);
    const split = splitIndices(features.length, s.validationFraction, 'random', options.seed);
    const verificationRows = (split.validation.length > 0 ? split.validation : split.train).map((i) => features[i] ?? []);
    const { onnx, maxAbsDiff } = await exportVerifiedOnnx({ loaded, model, spec, inputScaler: scaler, verificationRows, name: options.name, graphKind: 'autoencoder' });

    const calibrated = await calibrateDetector(onnx, calibration, s, driftExcluded, markedNormal);
    return {
      loaded, model, spec, scaler, onnx, maxAbsDiff, verificationRows, kept, columns, ...calibrated, train,
      dispose: () => model.dispose(),
    };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
