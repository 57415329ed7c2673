import { basename } from 'node:path';
import { writeBundle } from '../onnx/bundle.js';
import { denseManifestDraft, exportVerifiedOnnx } from '../onnx/export.js';
import type { DetectorPostprocess, Manifest } from '../onnx/manifest.js';
import { GRAPH_INPUT } from '../onnx/writer.js';
import { autoencoderSpec, buildDenseNet } from '../training/models.js';
import { splitIndices } from '../training/random.js';
import { applyScaler } from '../training/scaler.js';
import { loadTf } from '../training/tf.js';
import { trainDenseNet, type TrainProgress } from '../training/train.js';
import { automaticColumns, explicitWarnings, type LeftOut } from './columns.js';
import { basePostprocess, defaultDetectorSettings, defaultHidden, type DetectorSettings } from './core.js';
import { warmupRows } from './detector.js';
import { AnomalyError } from './errors.js';
import { applyPostprocess, detectorThreshold, trailingMean } from './postprocess.js';
import { columnDriftToNoise, columnScaler, graphPass, maxOf, minOf, rmsFromSums, sampleRows, smoothColumn, smoothedRowsAt, usableRows } from './stream.js';
import { readNumericTable, requireColumn } from './table.js';

export { defaultDetectorSettings, defaultHidden, keptColumns, type DetectorSettings } from './core.js';

/** Most rows the network is trained on by default (a seeded sample of the usable rows when there are more). */
export const NETWORK_ROWS = 10_000;

export interface FitCsvOptions {
  readonly csv: string;
  /** The bundle folder (model.onnx + manifest.json); replaced atomically when it exists. */
  readonly out: string;
  readonly columns?: readonly string[];
  /** Leading rows used for training and for the threshold (default: the whole file). */
  readonly rows?: number;
  /** Keep columns the drift guard would leave out (named or automatic). */
  readonly keepDrifting?: boolean;
  /** Most rows the network is trained on (default NETWORK_ROWS); scaler, residual spread and threshold see every usable row. */
  readonly networkRows?: number;
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
  /** Columns of the file that are not inputs, with the reason (also in the manifest). */
  readonly leftOut: readonly LeftOut[];
  /** One line each: named columns that look like labels, named columns left out for drift. */
  readonly warnings: readonly string[];
  /** Rows each step used (also in the manifest's training.rowsUsed). */
  readonly rowsUsed: Readonly<Record<string, number>>;
}

function driftReason(ratio: number, limit: number): string {
  return `drifting: its level travelled ${Number.isFinite(ratio) ? ratio.toFixed(1) : 'inf'} x its noise along a trend in the training rows (guard ${limit}; --keep-drifting keeps it)`;
}

/**
 * Fits the offline detector (settings, postprocess and scoring steps of the one detector family in
 * core.ts and postprocess.ts) on the leading rows of a CSV (all of them by default) and writes a verified
 * ONNX bundle. An input missing for a few rows keeps its smoothed level (imputed, counted); rows
 * with an input missing longer are left out of every fitted quantity and counted; the network learns from a bounded sample of the complete rows, the scaler, residual spread and threshold
 * from all of them, through the same batched graph pass as scoring. On a file without gaps every
 * fitted quantity is what fitDetector computes from the same rows (test/anomaly/stream.test.ts).
 */
export async function fitCsv(options: FitCsvOptions, onProgress?: (progress: TrainProgress) => void): Promise<FitCsvResult> {
  const s: DetectorSettings = { ...defaultDetectorSettings, ...options.settings };
  const basePost: DetectorPostprocess = basePostprocess(s);
  const seed = options.seed ?? 42;
  if (options.rows !== undefined && (!Number.isInteger(options.rows) || options.rows < 1)) throw new AnomalyError('USAGE', `--rows must be a positive integer (got ${options.rows})`);
  const explicit = options.columns !== undefined && options.columns.length > 0;
  const table = await readNumericTable(options.csv, { ...(explicit ? { keep: options.columns } : {}), ...(options.rows !== undefined ? { limit: options.rows } : {}) });
  const trainRows = table.rows;
  if (options.rows !== undefined && trainRows < options.rows) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${trainRows} rows, fewer than the ${options.rows} training rows asked for`);
  const warnings: string[] = [];
  let requested: string[];
  const leftOut: LeftOut[] = [];
  if (explicit) {
    requested = [...new Set(options.columns)];
    requested.forEach((name) => requireColumn(table, name));
    warnings.push(...explicitWarnings(table, requested));
    for (const name of table.header) if (name !== table.timeColumn && !requested.includes(name)) leftOut.push({ column: name, reason: 'not named in --columns' });
  } else {
    const auto = automaticColumns(table);
    requested = auto.columns;
    leftOut.push(...auto.leftOut);
  }
  if (requested.length === 0) throw new AnomalyError('CSV_NO_NUMERIC', `${options.csv}: no numeric columns to model (left out: ${leftOut.map((l) => `${l.column} (${l.reason})`).join(', ')})`);
  const warmup = warmupRows(basePost);
  const usable = trainRows - warmup;
  if (usable < 20) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${trainRows} training rows leave ${usable} after the ${warmup}-row smoothing warm-up; need at least 20`);

  const rawColumns = requested.map((name) => requireColumn(table, name).values);
  for (const [k, name] of requested.entries()) {
    const values = rawColumns[k];
    let present = 0;
    for (let i = 0; i < trainRows; i += 1) if (!Number.isNaN(values?.[i] ?? Number.NaN)) present += 1;
    if (present === 0) throw new AnomalyError('CSV_NO_VALUES', `${options.csv}: column "${name}" has no values in the ${trainRows} training rows`);
  }
  // a short gap (up to one input window) is bridged by the input's held smoothed level; longer ones are skipped
  const gapLimit = s.inputWindow;
  // drift guard on every candidate, named or not: a level with no stable normal value yet is left out loudly
  const requestedUse = usableRows(rawColumns, trainRows, warmup, gapLimit).use;
  const ratio = rawColumns.map((values) => columnDriftToNoise(smoothColumn(values, trainRows, basePost), values, warmup, trainRows, requestedUse));
  let kept = ratio.flatMap((v, j) => (options.keepDrifting === true || !Number.isFinite(s.driftRatio) || !(v > s.driftRatio) ? [j] : []));
  if (kept.length === 0) kept = [ratio.indexOf(minOf(ratio))];
  const columns = kept.map((j) => requested[j] ?? '');
  const driftExcluded = requested.filter((_, j) => !kept.includes(j));
  for (const name of driftExcluded) {
    const reason = driftReason(ratio[requested.indexOf(name)] ?? 0, s.driftRatio);
    leftOut.push({ column: name, reason });
    if (explicit) warnings.push(`column "${name}" named in --columns is left out, ${reason}`);
  }
  const raw = kept.map((j) => rawColumns[j] ?? new Float64Array());
  const { use, complete, imputed, skipped } = usableRows(raw, trainRows, warmup, gapLimit);
  const fitted = complete + imputed;
  if (fitted < 20) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${fitted} of ${usable} training rows are usable (${skipped} have an input missing for more than ${gapLimit} rows); need at least 20`);

  const smoothed = raw.map((values) => smoothColumn(values, trainRows, basePost));
  const scaler = columnScaler(smoothed, use, s.scaler, s.relativeFloor);
  smoothed.length = 0;
  const sample = sampleRows(use, options.networkRows ?? NETWORK_ROWS, seed);
  const features = smoothedRowsAt(raw, basePost, sample);
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

    // per-input residual spread and threshold from the complete training rows, through the same graph pass as scoring
    const first = await graphPass(onnx, GRAPH_INPUT, raw, trainRows, basePost, scaler.center, use);
    const post: DetectorPostprocess = {
      ...basePost,
      ...(s.aggregate !== 'sum' || s.residualScaled ? { residualScale: s.residualSpread === 'max' ? Array.from(first.squaredErrorMax, (v) => Math.max(1e-3, Math.sqrt(v))) : rmsFromSums(first.squaredErrorSum, first.squaredErrorRows) } : {}),
      ...(driftExcluded.length > 0 ? { driftExcluded } : {}),
    };
    const pass = s.aggregate !== 'sum' || s.residualScaled ? await graphPass(onnx, GRAPH_INPUT, raw, trainRows, post, scaler.center) : first;
    const rowScores = trailingMean(Array.from(pass.scores, (v) => (Number.isNaN(v) ? 0 : v)), post.scoreWindow);
    const trainingScores: number[] = [];
    for (let i = warmup; i < trainRows; i += 1) if (use[i] === 1) trainingScores.push(rowScores[i] ?? 0);
    const threshold = detectorThreshold(trainingScores, post);
    const flagged = applyPostprocess(trainingScores, threshold, { ...post, scoreWindow: 1 }).flags.filter(Boolean).length;
    const rowsUsed = { read: trainRows, warmup, complete, imputedShortGap: imputed, skippedMissing: skipped, scalerAndThreshold: fitted, network: features.length };
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
        trainingScoreMax: maxOf(trainingScores),
      },
      training: {
        source: basename(options.csv),
        rows: trainRows,
        seed,
        split: { mode: 'random' as const, trainRows: result.trainRows, validationRows: result.validationRows },
        epochs: result.epochsRun,
        layers: [...spec.layers],
        rowsUsed,
        ...(leftOut.length > 0 ? { leftOut } : {}),
      },
    };
    const draft = denseManifestDraft({ ...exportOptions, manifest }, maxAbsDiff);
    const bundle = await writeBundle(options.out, draft, onnx, { replace: true });
    return { dir: bundle.dir, manifest: bundle.manifest, columns, threshold, trainRows, leftOut, warnings, rowsUsed };
  } finally {
    model.dispose();
  }
}
