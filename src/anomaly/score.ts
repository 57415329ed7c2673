import type { Writable } from 'node:stream';
import { readBundle } from '../onnx/bundle.js';
import { inputLabel } from '../onnx/manifest.js';
import { AnomalyError } from './errors.js';
import { applyPostprocess } from './postprocess.js';
import { manifestScoring, type DetectorScoring } from './online.js';
import { graphPass, type GraphPass } from './stream.js';
import { readNumericTable, requireColumn } from './table.js';

export interface ScoreCsvOptions {
  readonly csv: string;
  /** A bundle folder written by fitCsv. */
  readonly model: string;
}

export interface ScoreCsvResult {
  readonly rows: number;
  readonly anomalies: number;
  readonly threshold: number;
  /** Rows with at least one input missing (scored from the others), and rows with none (no verdict). */
  readonly partialRows: number;
  readonly noVerdictRows: number;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function write(out: Writable, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(chunk, (error) => {
      if (error) reject(error);
    });
    if (ok) resolve();
    else out.once('drain', resolve);
  });
}

/** Rows [0, rows) of typed columns (NaN where missing) through the graph and the verdict steps, in order. */
export async function judgeColumns(onnx: Uint8Array, graphInput: string, columns: readonly Float64Array[], rows: number, scoring: DetectorScoring): Promise<{ pass: GraphPass; scores: number[]; flags: boolean[] }> {
  const pass = await graphPass(onnx, graphInput, columns, rows, scoring.post, scoring.center);
  return { pass, ...applyPostprocess(Array.from(pass.scores), scoring.threshold, scoring.post) };
}

/**
 * Scores every row of a CSV with a detector bundle (`anomaly fit`, or a stage detector of `train autoencoder`
 * whose columns are named stage.signal.feature); writes `datetime,score,threshold,is_anomaly,missing`.
 * A row with a missing input is scored from the others and names the missing ones (`a|b`); a row with
 * every input missing has an empty score and an empty is_anomaly (no verdict).
 */
export async function scoreCsv(options: ScoreCsvOptions, out: Writable): Promise<ScoreCsvResult> {
  const bundle = await readBundle(options.model);
  const { manifest } = bundle;
  const post = manifest.postprocess;
  if (manifest.kind === 'predictor' || !post || manifest.threshold === undefined) {
    throw new AnomalyError('MODEL_NOT_DETECTOR', `${options.model}: bundle kind "${manifest.kind}" has no detector scoring (fit one with "anomaly fit" or "train autoencoder")`);
  }
  // A stage detector's plant features are read from columns named stage.signal.feature (e.g. aerobic.do.mean).
  const columns = manifest.inputs.map((input) => inputLabel(input));
  const table = await readNumericTable(options.csv, { keep: columns, times: true });
  const raw = columns.map((name) => requireColumn(table, name).values);
  const { pass, scores, flags } = await judgeColumns(bundle.onnx, manifest.graphInput, raw, table.rows, manifestScoring(manifest));
  const threshold = String(manifest.threshold);
  let chunk = 'datetime,score,threshold,is_anomaly,missing\n';
  let anomalies = 0;
  let partialRows = 0;
  let noVerdictRows = 0;
  for (let i = 0; i < table.rows; i += 1) {
    const time = csvField(table.times[i] ?? String(i));
    const missing = pass.missingCount[i] ?? 0;
    const names = missing > 0 ? csvField(columns.filter((_, j) => Number.isNaN(raw[j]?.[i] ?? Number.NaN)).join('|')) : '';
    if (missing === columns.length) {
      noVerdictRows += 1;
      chunk += `${time},,${threshold},,${names}\n`;
    } else {
      if (missing > 0) partialRows += 1;
      const flag = flags[i] === true;
      if (flag) anomalies += 1;
      chunk += `${time},${(scores[i] ?? 0).toPrecision(6)},${threshold},${flag ? 1 : 0},${names}\n`;
    }
    if (chunk.length > 65536) {
      await write(out, chunk);
      chunk = '';
    }
  }
  if (chunk.length > 0) await write(out, chunk);
  return { rows: table.rows, anomalies, threshold: manifest.threshold, partialRows, noVerdictRows };
}
