import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { CsvError, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';

/**
 * Delimited text as historians export it, read with csv-parse (RFC 4180: quoted fields may hold the
 * separator, quotes and line breaks). The separator is detected once, from the header line, here.
 */
const CANDIDATES = [';', ',', '\t'] as const;

/** The candidate (`;`, `,` or tab) found most often outside quotes in the header line; `,` if none. */
export function detectSeparator(headerLine: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const c of headerLine) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (CANDIDATES as readonly string[]).includes(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  let most = 0;
  for (const c of CANDIDATES) {
    const n = counts.get(c) ?? 0;
    if (n > most) {
      best = c;
      most = n;
    }
  }
  return best;
}

/** The first line of a text, without a BOM. */
export function firstLine(text: string): string {
  const clean = text.replace(/^\uFEFF/, '');
  const end = clean.search(/\r?\n/);
  return end < 0 ? clean : clean.slice(0, end);
}

export class CsvReadError extends Error {
  constructor(
    message: string,
    readonly code: 'CSV_NOT_FOUND' | 'CSV_EMPTY' | 'CSV_SYNTAX',
  ) {
    super(message);
    this.name = 'CsvReadError';
  }
}

const options = (delimiter: string) => ({ delimiter, bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: false });

function syntaxError(path: string, error: unknown): CsvReadError {
  const e = error as CsvError & { lines?: number };
  return new CsvReadError(`${path}${e.lines !== undefined ? `:${e.lines}` : ''}: ${e.message.replace(/^Invalid Record Length: /, '')}`, 'CSV_SYNTAX');
}

/** A whole text's records (header first), for files read at once (the offline anomaly detector). */
export function parseCsvText(text: string, path: string): { separator: string; records: string[][] } {
  const separator = detectSeparator(firstLine(text));
  try {
    return { separator, records: parseSync(text, options(separator)) as string[][] };
  } catch (error) {
    throw syntaxError(path, error);
  }
}

async function headerLineOf(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new CsvReadError(`cannot read CSV ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'CSV_NOT_FOUND');
  }
  try {
    const buffer = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return firstLine(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

export interface CsvRow {
  /** Line of the file where the record ends (1 is the header). */
  readonly line: number;
  /** Cells by column name; a missing cell is absent. */
  readonly row: Readonly<Record<string, string>>;
  /** How many cells the record had, to tell a short or long row from the header. */
  readonly cells: number;
}

/** Streams a file as header-keyed rows. */
export async function* readCsvRows(path: string, onHeader?: (header: readonly string[], separator: string) => void): AsyncGenerator<CsvRow> {
  const separator = detectSeparator(await headerLineOf(path));
  const parser = createReadStream(path).pipe(parse({ ...options(separator), info: true }));
  let header: string[] | undefined;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      if (!header) {
        header = record;
        onHeader?.(header, separator);
        continue;
      }
      const row: Record<string, string> = {};
      header.forEach((name, i) => {
        const cell = record[i];
        if (cell !== undefined) row[name] = cell;
      });
      yield { line: info.lines, row, cells: record.length };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new CsvReadError(`cannot read CSV ${path}: ${code}`, 'CSV_NOT_FOUND');
    if (error instanceof CsvError) throw syntaxError(path, error);
    throw error;
  }
  if (!header) throw new CsvReadError(`CSV ${path} is empty`, 'CSV_EMPTY');
}
