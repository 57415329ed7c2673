import { basename } from 'node:path';
import type { EdgeConfig } from '../config/schema.js';
import type { ReadingSink } from '../contract/ports.js';
import type { DeadLetterReason, Reading } from '../contract/reading.js';
import { makeDeadLetter } from '../ingest/dead-letter.js';
import { EdgeError } from '../lib/lifecycle.js';
import { readCsvRows } from '../lib/csv.js';
import { checkHeader, csvLayout, looksDecimalComma, rowSamples } from './csv-samples.js';
import { createTagMap } from './tag-map.js';

export interface ImportOptions {
  readonly csv: string;
  /** The site config with the map's `tags` in it, validated. */
  readonly config: Pick<EdgeConfig, 'signals' | 'tags' | 'ingest' | 'storage'>;
  /** Where the map came from, for messages. */
  readonly mapFile: string;
  readonly sink: ReadingSink;
  readonly now: () => number;
  readonly signal: AbortSignal;
  /** Readings per store append (and the most held in memory). */
  readonly batchReadings?: number;
  readonly onRow?: (rows: number) => void;
}

export interface ImportSummary {
  readonly rows: number;
  readonly readings: number;
  readonly deadLetters: Readonly<Partial<Record<DeadLetterReason, number>>>;
  /** Values a point's `valid.otherwise: drop` left out. */
  readonly dropped: number;
  readonly firstTs: number | undefined;
  readonly lastTs: number | undefined;
  /** CSV columns that are no tag of the map (time-of-day helpers and the like). */
  readonly unusedColumns: readonly string[];
  /** Tags of the map that are no column of this CSV. */
  readonly missingTags: readonly string[];
  /** Cells refused as no number that would read as one with `tags.csv.decimal: ","` (1234,5). */
  readonly decimalCommaCells: number;
  /** Rows refused as bad_timestamp, and the first such time cell (a hint at the export's layout). */
  readonly badTime?: { readonly rows: number; readonly first: string } | undefined;
}

/**
 * A historian export into the store through the tag map and the same checks as live readings; each
 * refused cell or row is a dead letter (topic `import:{file}:{line}`). History is old by nature, so
 * only the future side of `ingest.maxFutureSkewSec` applies; a reading the store's retention would
 * remove at once stops the import instead of vanishing.
 */
export async function importCsv(opts: ImportOptions): Promise<ImportSummary> {
  const { config } = opts;
  const layout = csvLayout(config.tags, opts.mapFile);
  if ('error' in layout) throw new EdgeError('IMPORT_MAP', layout.error, 2);
  const tags = createTagMap(config.tags, config.signals);
  const window = { maxFutureMs: config.ingest.maxFutureSkewSec * 1000, maxAgeMs: Infinity };
  const oldestKept = opts.now() - config.storage.retentionDays.readings * 86_400_000;
  const file = basename(opts.csv);
  const batchMax = opts.batchReadings ?? 5_000;
  const deadLetters: Partial<Record<DeadLetterReason, number>> = {};
  let header: readonly string[] = [];
  let missingTags: readonly string[] = [];
  let rows = 0;
  let readings = 0;
  let dropped = 0;
  let firstTs: number | undefined;
  let lastTs: number | undefined;
  let batch: Reading[] = [];
  let decimalCommaCells = 0;
  let badTime: { rows: number; first: string } | undefined;

  const deadLetter = (line: number, payload: string, reason: DeadLetterReason, detail: string): void => {
    deadLetters[reason] = (deadLetters[reason] ?? 0) + 1;
    opts.sink.appendDeadLetter(makeDeadLetter(`import:${file}:${line}`, Buffer.from(payload), reason, detail, opts.now()));
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const out = batch;
    batch = [];
    await opts.sink.appendReadings(out);
    readings += out.length;
  };

  const records = readCsvRows(opts.csv, (h) => {
    header = h;
    const checked = checkHeader(layout, h, `CSV ${opts.csv} with map ${opts.mapFile}`);
    if ('error' in checked) throw new EdgeError('IMPORT_COLUMNS', checked.error, 2);
    missingTags = checked.missing;
  });
  for await (const { line, row, cells } of records) {
    if (opts.signal.aborted) break;
    rows += 1;
    const text = (): string => header.map((h) => row[h] ?? '').join(',');
    if (cells !== header.length) {
      deadLetter(line, text(), 'unparseable', `line ${line}: ${cells} fields, the header has ${header.length}`);
      opts.onRow?.(rows);
      continue;
    }
    const timeText = row[layout.timeColumn] ?? '';
    const ts = layout.time(timeText);
    if (!Number.isFinite(ts)) {
      badTime = { rows: (badTime?.rows ?? 0) + 1, first: badTime?.first ?? timeText.slice(0, 40) };
      deadLetter(line, text(), 'bad_timestamp', `line ${line}: ${layout.timeColumn} "${timeText.slice(0, 40)}" is not a time`);
      opts.onRow?.(rows);
      continue;
    }
    const mapped = tags.map(rowSamples(layout, row, ts), opts.now(), window);
    for (const r of mapped.rejections) {
      const cell = row[r.tag] ?? '';
      if (r.reason === 'wrong_type' && layout.decimal === '.' && looksDecimalComma(cell)) decimalCommaCells += 1;
      deadLetter(line, cell, r.reason, `line ${line}: ${r.detail}`);
    }
    dropped += mapped.dropped;
    if (mapped.readings.length > 0) {
      if (ts < oldestKept) {
        throw new EdgeError(
          'IMPORT_RETENTION',
          `line ${line}: ${new Date(ts).toISOString()} is older than storage.retentionDays.readings (${config.storage.retentionDays.readings} d), so the store would remove it; raise it in the site config to keep this history`,
          2,
        );
      }
      firstTs = firstTs === undefined ? ts : Math.min(firstTs, ts);
      lastTs = lastTs === undefined ? ts : Math.max(lastTs, ts);
      batch.push(...mapped.readings);
      if (batch.length >= batchMax) await flush();
    }
    opts.onRow?.(rows);
  }
  await flush();
  const used = new Set([layout.timeColumn, ...layout.columns]);
  return { rows, readings, deadLetters, dropped, firstTs, lastTs, unusedColumns: header.filter((h) => !used.has(h)), missingTags, decimalCommaCells, badTime };
}

/** What the map may be missing, read from what it refused: one line each, for the end of the summary. */
export function importHints(s: ImportSummary, timeFormat: string): string[] {
  const hints: string[] = [];
  if (s.decimalCommaCells > 0) hints.push(`hint: ${s.decimalCommaCells} values refused as no number look like decimal commas (1234,5): set tags.csv.decimal: ","`);
  if (s.badTime && s.badTime.rows * 2 >= s.rows) {
    hints.push(`hint: ${s.badTime.rows} of ${s.rows} rows have a time that is not ${timeFormat} (first "${s.badTime.first}"): give tags.csv.time.format the export's layout, e.g. "DD.MM.YYYY hh:mm[:ss]" or "MM/DD/YYYY h:mm:ss A"`);
  }
  return hints;
}

/** The summary as one line. */
export function summaryLine(file: string, s: ImportSummary): string {
  const letters = Object.entries(s.deadLetters).map(([reason, n]) => `${reason} ${n}`);
  const total = Object.values(s.deadLetters).reduce((a, b) => a + (b ?? 0), 0);
  const span = s.firstTs === undefined || s.lastTs === undefined ? 'no readings' : `${new Date(s.firstTs).toISOString()} to ${new Date(s.lastTs).toISOString()}`;
  return `imported ${file}: ${s.rows} rows, ${s.readings} readings, ${total} dead letters${letters.length ? ` (${letters.join(', ')})` : ''}${s.dropped ? `, ${s.dropped} invalid values dropped` : ''}, ${span}${s.unusedColumns.length ? `, ${s.unusedColumns.length} columns not in the map` : ''}${s.missingTags.length ? `, map tags not in the CSV: ${s.missingTags.join(' ')}` : ''}`;
}
