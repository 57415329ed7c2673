import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { N_COMP, SI, SS, XI, XS, XBH, SNH, SND, XND, SALK } from './asm1.js';

/** An influent record every 15 min (zero-order hold), repeating with its own period. */
export interface InfluentSeries {
  readonly name: string;
  readonly stepDays: number;
  /** Row-major: N_COMP concentrations then Q (m3/d) per row. */
  readonly rows: Float64Array;
  readonly count: number;
}

export type InfluentName = 'dry' | 'rain' | 'storm' | 'const';
const ROW = N_COMP + 1;
const TOOLBOX_FILES: Record<InfluentName, string> = {
  dry: 'dryinfluent.ascii', rain: 'raininfluent.ascii', storm: 'storminfluent.ascii', const: 'constinfluent.ascii',
};

/** BSM1 constant (stabilisation) influent, [REPORT] table 6. */
export function constantInfluent(): InfluentSeries {
  const rows = new Float64Array(ROW);
  rows.set([30, 69.5, 51.2, 202.32, 28.17, 0, 0, 0, 0, 31.56, 6.95, 10.59, 7, 18446]);
  return { name: 'const', stepDays: 1e9, rows, count: 1 };
}

/**
 * Reads a weather file. The named weathers come from the Lund toolbox files (diluted SI, the set the
 * published MATLAB figures used). A FILE may be a toolbox .ascii (10 columns: t SS XBH XS XI SNH SI
 * SND XND Q) or a BSM 2006 .txt (header, 15 columns: t SI SS XI XS XBH XBA XP SO SNO SNH SND XND SALK Q).
 */
export function loadInfluent(source: InfluentName | string, dataDir: string): InfluentSeries {
  if (source === 'const') return constantInfluent();
  const path = influentPath(source, dataDir);
  if (!existsSync(path)) {
    throw new MissingDataError(isNamedInfluent(source)
      ? `BSM1 influent file not found: ${path} (set WWTP_EDGE_DATA to the data folder that holds bsm1/)`
      : `influent file not found: ${path}`);
  }
  return parseInfluent(readFileSync(path, 'utf8'), isNamedInfluent(source) ? source : path);
}

/** A file or data set a command needs is missing: one line, exit 2. */
export class MissingDataError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'MissingDataError';
  }
}

export function isNamedInfluent(source: string): source is InfluentName {
  return Object.hasOwn(TOOLBOX_FILES, source);
}

/** Where a named weather (dry, rain, storm, const) or a FILE is read from. */
export function influentPath(source: string, dataDir: string): string {
  return isNamedInfluent(source) ? resolve(dataDir, 'bsm1', 'influent_lund_toolbox', TOOLBOX_FILES[source]) : source;
}

export function parseInfluent(text: string, name: string): InfluentSeries {
  const data: number[][] = [];
  for (const line of text.split(/\r?\n/)) {
    const cells = line.trim().split(/[\s,;]+/).filter((c) => c.length > 0).map(Number);
    if (cells.length < 10 || cells.some((v) => !Number.isFinite(v))) continue;
    data.push(cells);
  }
  if (data.length < 2) throw new Error(`influent ${name}: fewer than two data rows`);
  const wide = data[0]!.length >= 15;
  const qCol = data[0]!.length >= 16 ? 15 : wide ? 14 : 9;
  const step = data[1]![0]! - data[0]![0]!;
  // A trailing row one period after the first that repeats it (wrap-around for interpolation) is dropped.
  const first = data[0]!, last = data[data.length - 1]!;
  const repeats = data.length > 2 && last.slice(1).every((v, i) => v === first[i + 1]);
  const usable = repeats ? data.slice(0, -1) : data;
  const rows = new Float64Array(usable.length * ROW);
  usable.forEach((r, i) => {
    const o = i * ROW;
    if (wide) {
      for (let c = 0; c < N_COMP; c++) rows[o + c] = r[1 + c]!;
      rows[o + N_COMP] = r[qCol]!;
    } else {
      rows[o + SS] = r[1]!; rows[o + XBH] = r[2]!; rows[o + XS] = r[3]!; rows[o + XI] = r[4]!;
      rows[o + SNH] = r[5]!; rows[o + SI] = r[6]!; rows[o + SND] = r[7]!; rows[o + XND] = r[8]!;
      rows[o + SALK] = 7; rows[o + N_COMP] = r[qCol]!;
    }
  });
  return { name, stepDays: Math.round(step * 96) / 96 || step, rows, count: usable.length };
}

/** Copies the influent row in force at plant time t (days) into out; returns Q. */
export function influentAt(series: InfluentSeries, t: number, out: Float64Array): number {
  const i = series.count === 1 ? 0 : Math.floor(t / series.stepDays + 1e-7) % series.count;
  const o = i * ROW;
  for (let c = 0; c < N_COMP; c++) out[c] = series.rows[o + c]!;
  return series.rows[o + N_COMP]!;
}
