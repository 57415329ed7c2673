import type { Writable } from 'node:stream';
import { readBundle } from '../onnx/bundle.js';
import { columnMatrix, readCsv } from './csv.js';
import { graphScores } from './detector.js';
import { AnomalyError } from './errors.js';
import { applyPostprocess } from './postprocess.js';

export interface ScoreCsvOptions {
  readonly csv: string;
  /** A bundle folder written by fitCsv. */
  readonly model: string;
}

export interface ScoreCsvResult {
  readonly rows: number;
  readonly anomalies: number;
  readonly threshold: number;
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

/** Scores every row of a CSV with a fitted detector bundle; writes `datetime,score,threshold,is_anomaly`. */
export async function scoreCsv(options: ScoreCsvOptions, out: Writable): Promise<ScoreCsvResult> {
  const bundle = await readBundle(options.model);
  const { manifest } = bundle;
  if (manifest.kind !== 'detector' || !manifest.postprocess || manifest.threshold === undefined) {
    throw new AnomalyError('MODEL_NOT_DETECTOR', `${options.model}: bundle kind "${manifest.kind}" is not an offline detector (fit one with "anomaly fit")`);
  }
  const columns = manifest.inputs.map((input) => {
    if (typeof input !== 'string') throw new AnomalyError('MODEL_NOT_DETECTOR', `${options.model}: inputs are plant features, not CSV columns`);
    return input;
  });
  const table = await readCsv(options.csv);
  const rows = columnMatrix(table, columns);
  const raw = await graphScores(bundle.onnx, rows, manifest.postprocess);
  const { scores, flags } = applyPostprocess(raw, manifest.threshold, manifest.postprocess);
  const threshold = String(manifest.threshold);
  let chunk = 'datetime,score,threshold,is_anomaly\n';
  let anomalies = 0;
  for (let i = 0; i < scores.length; i += 1) {
    const flag = flags[i] === true;
    if (flag) anomalies += 1;
    chunk += `${table.times[i] ?? i},${(scores[i] ?? 0).toPrecision(6)},${threshold},${flag ? 1 : 0}\n`;
    if (chunk.length > 65536) {
      await write(out, chunk);
      chunk = '';
    }
  }
  if (chunk.length > 0) await write(out, chunk);
  return { rows: scores.length, anomalies, threshold: manifest.threshold };
}
