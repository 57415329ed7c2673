import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CsvError, parse } from 'csv-parse';
import { detectSeparator, firstLine } from '../lib/csv.js';
import { AnomalyError } from './errors.js';

const TIME_COLUMN = /^(datetime|timestamp|time|date|ts)$/i;
/** Cells a historian writes for "no value" (compared trimmed, case-insensitive). */
const MISSING = new Set(['', 'nan', 'null', 'na', 'n/a', '#n/a', 'none', '-']);
/** Distinct integer values above which a column no longer looks like a set of codes. */
const CODE_LIMIT = 5;
const BLOCK = 65_536;

export function isMissingCell(cell: string): boolean {
  return MISSING.has(cell.trim().toLowerCase());
}

/** What the reader saw of one column; values are NaN where a cell was missing or not a number. */
export interface ColumnFacts {
  readonly name: string;
  readonly values: Float64Array;
  /** Cells that were blank, NaN, null and the like. */
  readonly missing: number;
  /** First cell that was neither a number nor a missing marker, with its line. */
  readonly firstBad: { readonly line: number; readonly value: string } | undefined;
  /** Only integer values, at most CODE_LIMIT distinct ones (0/1 flags, mode codes). */
  readonly integerCodes: boolean;
}

export interface NumericTable {
  readonly path: string;
  readonly header: readonly string[];
  readonly timeColumn: string | undefined;
  readonly rows: number;
  /** Line of the file each data row starts on is `lines[i]` (1 is the header). */
  readonly lines: Int32Array;
  readonly times: readonly string[];
  readonly columns: ReadonlyMap<string, ColumnFacts>;
}

class ColumnReader {
  private blocks: Float64Array[] = [];
  private block = new Float64Array(BLOCK);
  private used = 0;
  missing = 0;
  firstBad: { line: number; value: string } | undefined;
  private codes: Set<number> | undefined = new Set();

  push(cell: string, line: number): void {
    let value = Number.NaN;
    if (isMissingCell(cell)) this.missing += 1;
    else {
      const n = Number(cell);
      if (Number.isFinite(n)) {
        value = n;
        if (this.codes && (!Number.isInteger(n) || (this.codes.add(n), this.codes.size > CODE_LIMIT))) this.codes = undefined;
      } else this.firstBad ??= { line, value: cell };
    }
    if (this.used === BLOCK) {
      this.blocks.push(this.block);
      this.block = new Float64Array(BLOCK);
      this.used = 0;
    }
    this.block[this.used] = value;
    this.used += 1;
  }

  finish(name: string): ColumnFacts {
    const values = new Float64Array(this.blocks.length * BLOCK + this.used);
    this.blocks.forEach((b, k) => values.set(b, k * BLOCK));
    values.set(this.block.subarray(0, this.used), this.blocks.length * BLOCK);
    this.blocks = [];
    const integerCodes = this.codes !== undefined && this.codes.size > 0;
    return { name, values, missing: this.missing, firstBad: this.firstBad, integerCodes };
  }
}

async function headerLine(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new AnomalyError('CSV_NOT_FOUND', `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const buffer = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return firstLine(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

/**
 * Streams a CSV into one Float64Array per column (blank and "NaN"/"null" cells become NaN and are
 * counted; other text is remembered with its line), so a year of minute data stays in typed memory.
 * `keep` limits the columns stored (all when absent); `limit` stops after that many data rows.
 */
export async function readNumericTable(path: string, options: { readonly keep?: readonly string[]; readonly times?: boolean; readonly limit?: number } = {}): Promise<NumericTable> {
  const separator = detectSeparator(await headerLine(path));
  const parser = createReadStream(path).pipe(parse({ delimiter: separator, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }));
  let header: string[] | undefined;
  let timeIndex = -1;
  let readers: (ColumnReader | undefined)[] = [];
  const lines: number[] = [];
  const times: string[] = [];
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      if (!header) {
        header = record;
        if (header.every((h) => h === '')) throw new AnomalyError('CSV_EMPTY', `${path}: empty file, expected a header row`);
        if (header.length < 2) throw new AnomalyError('CSV_NO_COLUMNS', `${path}: header has one column; expected ';' or ',' separated columns`);
        timeIndex = header.findIndex((h) => TIME_COLUMN.test(h));
        readers = header.map((name, j) => (j === timeIndex || (options.keep && !options.keep.includes(name)) ? undefined : new ColumnReader()));
        continue;
      }
      if (options.limit !== undefined && lines.length >= options.limit) break;
      if (record.length !== header.length) throw new AnomalyError('CSV_BAD_ROW', `${path}: line ${info.lines}: ${record.length} fields, header has ${header.length}`);
      lines.push(info.lines);
      if (options.times) times.push(timeIndex >= 0 ? (record[timeIndex] ?? '') : String(lines.length - 1));
      for (let j = 0; j < record.length; j += 1) readers[j]?.push(record[j] ?? '', info.lines);
    }
  } catch (error) {
    if (error instanceof AnomalyError) throw error;
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new AnomalyError('CSV_NOT_FOUND', `${path}: cannot read (${String(code)})`);
    if (error instanceof CsvError) throw new AnomalyError('CSV_BAD_ROW', `${path}: ${error.message.replace(/\s+/g, ' ')}`);
    throw error;
  } finally {
    parser.destroy();
  }
  if (!header) throw new AnomalyError('CSV_EMPTY', `${path}: empty file, expected a header row`);
  if (lines.length === 0) throw new AnomalyError('CSV_NO_ROWS', `${path}: header only, no data rows`);
  const columns = new Map<string, ColumnFacts>();
  const names = header;
  readers.forEach((r, j) => {
    const name = names[j] ?? '';
    if (r && !columns.has(name)) columns.set(name, r.finish(name));
  });
  return { path, header, timeColumn: timeIndex >= 0 ? header[timeIndex] : undefined, rows: lines.length, lines: Int32Array.from(lines), times, columns };
}

/** A column the model needs, or one clear error naming the file, line and cell. */
export function requireColumn(table: NumericTable, name: string): ColumnFacts {
  const facts = table.columns.get(name);
  if (!facts) {
    const known = table.header.includes(name) && name === table.timeColumn ? ` ("${name}" is the time column)` : ` (columns: ${table.header.join(', ')})`;
    throw new AnomalyError('CSV_UNKNOWN_COLUMN', `${table.path}: no column "${name}"${known}`);
  }
  if (facts.firstBad) throw new AnomalyError('CSV_NOT_NUMERIC', `${table.path}:${facts.firstBad.line}: column "${name}" value "${facts.firstBad.value}" is not a number`);
  return facts;
}
