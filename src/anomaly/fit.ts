import { basename } from 'node:path';
import { writeBundle } from '../onnx/bundle.js';
import { denseManifestDraft, exportVerifiedOnnx } from '../onnx/export.js';
import type { DetectorPostprocess, Manifest } from '../onnx/manifest.js';
import { autoencoderSpec, buildDenseNet, type Activation } from '../training/models.js';
import { splitIndices } from '../training/random.js';
import { applyScaler, fitScaler } from '../training/scaler.js';
import { loadTf } from '../training/tf.js';
import { trainDenseNet, type TrainProgress } from '../training/train.js';
import { columnMatrix, numericColumns, readCsv } from './csv.js';
import { graphRows, graphScores, smoothedScores, warmupRows } from './detector.js';
import { AnomalyError } from './errors.js';
import { applyPostprocess, detectorThreshold, driftToNoise, residualRms, smoothInputs } from './postprocess.js';

type FittedPostprocess = 'residualScale' | 'driftExcluded' | 'inputFilter' | 'aggregate' | 'hold' | 'residualWeight' | 'driftRatio';

export interface DetectorSettings extends Omit<DetectorPostprocess, FittedPostprocess> {
  readonly inputFilter: 'mean' | 'ewma';
  readonly aggregate: 'sum' | 'max' | 'ensemble';
  /** `ensemble` only: weight of the autoencoder's normalised residual against the standard score. */
  readonly residualWeight: number;
  readonly hold: number;
  /**
   * Columns whose smoothed level travelled more than this many noise widths along a trend during the
   * training rows are left out (see driftToNoise); Infinity keeps every column.
   */
  readonly driftRatio: number;
  /** Encoder widths down to the bottleneck; the decoder mirrors them. Empty: 2n then 3n/4 for n inputs. */
  readonly hidden: readonly number[];
  readonly activation: Activation;
  /** Scale floor as a share of |training mean| (sensor noise floor; keeps slow drift from dominating). */
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
  hold: 0,
  driftRatio: 3,
  hidden: [],
  activation: 'tanh',
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

export interface FitCsvOptions {
  readonly csv: string;
  /** The bundle folder (model.onnx + manifest.json); replaced atomically when it exists. */
  readonly out: string;
  readonly columns?: readonly string[];
  /** Leading rows used for training and for the threshold (default 400). */
  readonly rows?: number;
  readonly seed?: number;
  readonly name?: string;
  readonly version?: string;
  readonly settings?: Partial<DetectorSettings>;
}

export interface FitCsvResult {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly columns: readonly string[];
  readonly threshold: number;
  readonly trainRows: number;
}

/** Columns to model: all but those whose level drifted through the training rows (at least one stays). */
export function keptColumns(features: readonly (readonly number[])[], raw: readonly (readonly number[])[], driftRatio: number): number[] {
  const width = raw[0]?.length ?? 0;
  const ratio = Array.from({ length: width }, (_, j) => driftToNoise(features.map((r) => r[j] ?? 0), raw.map((r) => r[j] ?? 0)));
  const kept = ratio.flatMap((v, j) => (v > driftRatio ? [] : [j]));
  if (kept.length > 0) return kept;
  return [ratio.indexOf(Math.min(...ratio))];
}

/** Fits the offline detector on the first rows of a CSV and writes a verified ONNX bundle. */
export async function fitCsv(options: FitCsvOptions, onProgress?: (progress: TrainProgress) => void): Promise<FitCsvResult> {
  const s: DetectorSettings = { ...defaultDetectorSettings, ...options.settings };
  const basePost: DetectorPostprocess = {
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
  const seed = options.seed ?? 42;
  const trainRows = options.rows ?? 400;
  if (!Number.isInteger(trainRows) || trainRows < 1) throw new AnomalyError('USAGE', `--rows must be a positive integer (got ${trainRows})`);
  const table = await readCsv(options.csv);
  const requested = options.columns && options.columns.length > 0 ? [...options.columns] : numericColumns(table);
  if (requested.length === 0) throw new AnomalyError('CSV_NO_NUMERIC', `${options.csv}: no numeric columns to model (label columns anomaly/changepoint are left out)`);
  if (table.cells.length < trainRows) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${table.cells.length} rows, fewer than the ${trainRows} training rows asked for`);
  const requestedRaw = columnMatrix(table, requested).slice(0, trainRows);
  const warmup = warmupRows(basePost);
  const usable = trainRows - warmup;
  if (usable < 20) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${trainRows} training rows leave ${usable} after the ${warmup}-row smoothing warm-up; need at least 20`);

  const requestedFeatures = smoothInputs(requestedRaw, basePost).slice(warmup);
  // columns named by the user are modelled as asked; the drift guard only prunes the automatic choice
  const explicit = options.columns !== undefined && options.columns.length > 0;
  const kept = explicit ? requested.map((_, j) => j) : keptColumns(requestedFeatures, requestedRaw, s.driftRatio);
  const columns = kept.map((j) => requested[j] ?? '');
  const driftExcluded = requested.filter((_, j) => !kept.includes(j));
  const raw = requestedRaw.map((r) => kept.map((j) => r[j] ?? 0));
  const features = requestedFeatures.map((r) => kept.map((j) => r[j] ?? 0));
  const scaler = fitScaler(features, { kind: 'standard', relativeFloor: s.relativeFloor });
  const scaled = features.map((r) => applyScaler(scaler, r));
  const loaded = await loadTf();
  const hidden = s.hidden.length > 0 ? s.hidden : defaultHidden(columns.length);
  const spec = autoencoderSpec(columns.length, hidden, s.activation);
  const model = buildDenseNet(loaded.tf, spec, seed);
  try {
    const trainOptions = { epochs: s.epochs, patience: s.patience, learningRate: s.learningRate, batchSize: s.batchSize, validationFraction: s.validationFraction, validationMode: 'random' as const, seed };
    const result = await trainDenseNet(loaded.tf, model, scaled, scaled, trainOptions, onProgress);
    const split = splitIndices(features.length, s.validationFraction, 'random', seed);
    const heldOut = (split.validation.length > 0 ? split.validation : split.train).map((i) => features[i] ?? []);
    const exportOptions = { loaded, model, spec, inputScaler: scaler, verificationRows: heldOut };
    const { onnx, maxAbsDiff } = await exportVerifiedOnnx({ ...exportOptions, name: options.name ?? 'csv-detector', graphKind: 'autoencoder' });

    // per-input residual spread and threshold from the training rows only, through the same graph and steps as scoring
    const trainingErrors = (await graphRows(onnx, raw, basePost)).squaredError.slice(warmup * columns.length);
    const post: DetectorPostprocess = {
      ...basePost,
      ...(s.aggregate !== 'sum' ? { residualScale: residualRms(trainingErrors, columns.length) } : {}),
      ...(driftExcluded.length > 0 ? { driftExcluded } : {}),
    };
    const trainingScores = smoothedScores(await graphScores(onnx, raw, post), post).slice(warmup);
    const threshold = detectorThreshold(trainingScores, post);
    const flagged = applyPostprocess(trainingScores, threshold, { ...post, scoreWindow: 1 }).flags.filter(Boolean).length;
    const manifest = {
      name: options.name ?? 'csv-detector',
      version: options.version ?? new Date().toISOString().replace(/[:.]/g, '-'),
      kind: 'detector' as const,
      inputs: columns,
      threshold,
      postprocess: post,
      metrics: {
        validationMse: result.validationLoss,
        trainMse: result.trainLoss,
        trainingFlagRate: flagged / Math.max(1, trainingScores.length),
        trainingScoreMax: Math.max(...trainingScores),
      },
      training: {
        source: basename(options.csv),
        rows: trainRows,
        seed,
        split: { mode: 'random' as const, trainRows: result.trainRows, validationRows: result.validationRows },
        epochs: result.epochsRun,
        layers: [...spec.layers],
      },
    };
    const draft = denseManifestDraft({ ...exportOptions, manifest }, maxAbsDiff);
    const bundle = await writeBundle(options.out, draft, onnx, { replace: true });
    return { dir: bundle.dir, manifest: bundle.manifest, columns, threshold, trainRows };
  } finally {
    model.dispose();
  }
}
