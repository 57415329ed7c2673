import { readFile } from 'node:fs/promises';
import { parseCsvText } from '../lib/csv.js';
import { AnomalyError } from './errors.js';

/** Columns that carry labels in evaluation sets; never model inputs unless named explicitly. */
export const LABEL_COLUMNS = ['anomaly', 'changepoint'];
const TIME_COLUMN = /^(datetime|timestamp|time|date|ts)$/i;

export interface CsvTable {
  readonly path: string;
  readonly separator: string;
  readonly header: readonly string[];
  /** Name of the time column, when the file has one. */
  readonly timeColumn: string | undefined;
  /** Time column values as written (or row numbers when there is none). */
  readonly times: readonly string[];
  /** Raw cells by column, row-major rows excluding the header. */
  readonly cells: readonly (readonly string[])[];
}

export { detectSeparator } from '../lib/csv.js';

export function parseCsv(text: string, path: string): CsvTable {
  let parsed: { separator: string; records: string[][] };
  try {
    parsed = parseCsvText(text, path);
  } catch (error) {
    throw new AnomalyError('CSV_BAD_ROW', error instanceof Error ? error.message : String(error));
  }
  const { separator, records } = parsed;
  const header = records[0];
  if (header === undefined || header.every((h) => h === '')) throw new AnomalyError('CSV_EMPTY', `${path}: empty file, expected a header row`);
  if (header.length < 2) throw new AnomalyError('CSV_NO_COLUMNS', `${path}: header has one column; expected ';' or ',' separated columns`);
  const cells = records.slice(1);
  cells.forEach((fields, i) => {
    if (fields.length !== header.length) throw new AnomalyError('CSV_BAD_ROW', `${path}: record ${i + 2}: ${fields.length} fields, header has ${header.length}`);
  });
  if (cells.length === 0) throw new AnomalyError('CSV_NO_ROWS', `${path}: header only, no data rows`);
  const timeIndex = header.findIndex((h) => TIME_COLUMN.test(h));
  const timeColumn = timeIndex >= 0 ? header[timeIndex] : undefined;
  const times = cells.map((row, i) => (timeIndex >= 0 ? (row[timeIndex] ?? '') : String(i)));
  return { path, separator, header, timeColumn, times, cells };
}

export async function readCsv(path: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AnomalyError('CSV_NOT_FOUND', `${path}: cannot read (${code ?? (error as Error).message})`);
  }
  return parseCsv(text, path);
}

function isNumeric(cell: string): boolean {
  return cell !== '' && Number.isFinite(Number(cell));
}

/** Default inputs: every all-numeric column except the time column and label columns. */
export function numericColumns(table: CsvTable): string[] {
  return table.header.filter((name, j) => {
    if (name === table.timeColumn || LABEL_COLUMNS.includes(name.toLowerCase())) return false;
    return table.cells.every((row) => isNumeric(row[j] ?? ''));
  });
}

/** Selected columns as numbers, row-major; every cell must be a finite number. */
export function columnMatrix(table: CsvTable, columns: readonly string[]): number[][] {
  const indices = columns.map((name) => {
    const j = table.header.indexOf(name);
    if (j < 0) throw new AnomalyError('CSV_UNKNOWN_COLUMN', `${table.path}: no column "${name}" (columns: ${table.header.join(', ')})`);
    return j;
  });
  return table.cells.map((row, i) =>
    indices.map((j, k) => {
      const cell = row[j] ?? '';
      const value = Number(cell);
      if (!isNumeric(cell)) throw new AnomalyError('CSV_NOT_NUMERIC', `${table.path}:${i + 2}: column "${columns[k] ?? ''}" value "${cell}" is not a number`);
      return value;
    }),
  );
}
