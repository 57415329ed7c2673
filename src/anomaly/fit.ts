import { basename } from 'node:path';
import { writeBundle } from '../onnx/bundle.js';
import { denseManifestDraft } from '../onnx/export.js';
import type { Manifest } from '../onnx/manifest.js';
import type { TrainProgress } from '../training/train.js';
import { basePostprocess, defaultDetectorSettings, fitDetector, type DetectorSettings } from './core.js';
import { columnMatrix, numericColumns, readCsv } from './csv.js';
import { warmupRows } from './detector.js';
import { AnomalyError } from './errors.js';

export { defaultDetectorSettings, defaultHidden, keptColumns, type DetectorSettings } from './core.js';

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

/** Fits the offline detector on the first rows of a CSV and writes a verified ONNX bundle. */
export async function fitCsv(options: FitCsvOptions, onProgress?: (progress: TrainProgress) => void): Promise<FitCsvResult> {
  const s: DetectorSettings = { ...defaultDetectorSettings, ...options.settings };
  const seed = options.seed ?? 42;
  const trainRows = options.rows ?? 400;
  if (!Number.isInteger(trainRows) || trainRows < 1) throw new AnomalyError('USAGE', `--rows must be a positive integer (got ${trainRows})`);
  const table = await readCsv(options.csv);
  const requested = options.columns && options.columns.length > 0 ? [...options.columns] : numericColumns(table);
  if (requested.length === 0) throw new AnomalyError('CSV_NO_NUMERIC', `${options.csv}: no numeric columns to model (label columns anomaly/changepoint are left out)`);
  if (table.cells.length < trainRows) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${table.cells.length} rows, fewer than the ${trainRows} training rows asked for`);
  const rows = columnMatrix(table, requested).slice(0, trainRows);
  const warmup = warmupRows(basePostprocess(s));
  if (trainRows - warmup < 20) throw new AnomalyError('CSV_TOO_FEW_ROWS', `${options.csv}: ${trainRows} training rows leave ${trainRows - warmup} after the ${warmup}-row smoothing warm-up; need at least 20`);
  const name = options.name ?? 'csv-detector';
  // columns named by the user are modelled as asked; the drift guard only prunes the automatic choice
  const explicit = options.columns !== undefined && options.columns.length > 0;
  const fitted = await fitDetector({ rows, columns: requested, explicit }, s, { name, seed, ...(onProgress ? { onProgress } : {}) });
  try {
    const { columns, threshold, spec, train: result } = fitted;
    const manifest = {
      name,
      version: options.version ?? new Date().toISOString().replace(/[:.]/g, '-'),
      kind: 'detector' as const,
      inputs: [...columns],
      threshold,
      postprocess: fitted.post,
      metrics: {
        validationMse: result.validationLoss,
        trainMse: result.trainLoss,
        trainingFlagRate: fitted.trainingFlagRate,
        trainingScoreMax: fitted.trainingScoreMax,
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
    const exportOptions = { loaded: fitted.loaded, model: fitted.model, spec, inputScaler: fitted.scaler, verificationRows: fitted.verificationRows };
    const draft = denseManifestDraft({ ...exportOptions, manifest }, fitted.maxAbsDiff);
    const bundle = await writeBundle(options.out, draft, fitted.onnx, { replace: true });
    return { dir: bundle.dir, manifest: bundle.manifest, columns: [...columns], threshold, trainRows };
  } finally {
    fitted.dispose();
  }
}
