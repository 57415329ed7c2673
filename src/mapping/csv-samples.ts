import type { TagsConfig } from '../config/sections/tags.js';
import type { TagSample } from './tag-map.js';
import { parseTime } from './time.js';

/** How a CSV row becomes tag samples: the `tags.csv.time` column, every tag a column of its name. */
export interface CsvLayout {
  readonly timeColumn: string;
  /** Epoch ms of a time cell, NaN if it is none. */
  time(text: string): number;
  /** Columns read from each row: validity flags first, then the mapped tags. */
  readonly columns: readonly string[];
  /** The export's decimal mark (`tags.csv.decimal`). */
  readonly decimal: '.' | ',';
}

/** 1234,5 or -0,25 or 1.234,5 (the dot grouping thousands): a number written with a decimal comma. */
const DECIMAL_COMMA = /^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$/;

/** A cell of an export with a decimal comma as the number it means, in JavaScript's notation; other text as it is. */
export function decimalPoint(cell: string): string {
  return DECIMAL_COMMA.test(cell) ? cell.replaceAll('.', '').replace(',', '.') : cell;
}

/** Whether a cell refused as no number would read as one with `tags.csv.decimal: ","`. */
export const looksDecimalComma = (cell: string): boolean => cell.includes(',') && DECIMAL_COMMA.test(cell.trim());

export function csvLayout(tags: TagsConfig, file: string): CsvLayout | { readonly error: string } {
  const t = tags.csv?.time;
  if (!t) return { error: `map ${file} has no tags.csv.time (the time column of the CSV)` };
  const flags = [...new Set(tags.points.flatMap((p) => (p.valid?.when ? [p.valid.when.tag] : [])))];
  const columns = [...flags, ...tags.points.map((p) => p.tag).filter((c) => !flags.includes(c))];
  return { timeColumn: t.column, time: (text) => parseTime(text, t.format, t.timezone), columns, decimal: tags.csv?.decimal ?? '.' };
}

/**
 * Why the header cannot be read with this layout (no time column, or none of the map's tags), else
 * the map's tags it lacks (one map may serve several exports of a plant, each with some of its tags).
 */
export function checkHeader(layout: CsvLayout, header: readonly string[], what: string): { missing: string[] } | { error: string } {
  const have = new Set(header);
  if (!have.has(layout.timeColumn)) return { error: `${what}: no time column "${layout.timeColumn}" (tags.csv.time.column)` };
  const missing = layout.columns.filter((c) => !have.has(c));
  if (missing.length === layout.columns.length) return { error: `${what}: none of the map's tags is a column (${layout.columns.slice(0, 5).join(', ')}...)` };
  return { missing };
}

/** The samples of one row at `ts`; empty cells are no sample (a gap in the record, not an error). */
export function rowSamples(layout: CsvLayout, row: Readonly<Record<string, string>>, ts: number): TagSample[] {
  const out: TagSample[] = [];
  for (const column of layout.columns) {
    const cell = row[column];
    if (cell === undefined || cell === '') continue;
    out.push({ tag: column, value: layout.decimal === ',' ? decimalPoint(cell) : cell, ts });
  }
  return out;
}
