import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/anomaly/csv.js';
import { detectSeparator, readCsvRows } from '../../src/lib/csv.js';

const work = mkdtempSync(join(tmpdir(), 'wwtp-csv-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function rows(text: string): Promise<{ line: number; row: Record<string, string>; cells: number }[]> {
  const file = join(work, `f${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(file, text);
  const out = [];
  for await (const r of readCsvRows(file)) out.push({ line: r.line, row: { ...r.row }, cells: r.cells });
  return out;
}

describe('historian CSV (csv-parse, one separator detection)', () => {
  it('detects the separator once from the header, outside quotes', () => {
    expect(detectSeparator('a;b;c')).toBe(';');
    expect(detectSeparator('a,b,c')).toBe(',');
    expect(detectSeparator('a\tb\tc')).toBe('\t');
    expect(detectSeparator('"ts, local";"FT-101, m3/h";x')).toBe(';');
    expect(detectSeparator('single')).toBe(',');
  });

  it('keeps a quoted field that holds the separator, a quote or a line break', async () => {
    const text = '\uFEFFtime;"FT-101; m3/h";comment\r\n2024-01-01 00:00;"1,5";"pump ""A""; manual"\r\n2024-01-01 00:01;2;"two\nlines"\r\n\r\n2024-01-01 00:02;3\r\n';
    expect(await rows(text)).toEqual([
      { line: 2, row: { time: '2024-01-01 00:00', 'FT-101; m3/h': '1,5', comment: 'pump "A"; manual' }, cells: 3 },
      { line: 4, row: { time: '2024-01-01 00:01', 'FT-101; m3/h': '2', comment: 'two\nlines' }, cells: 3 },
      { line: 6, row: { time: '2024-01-01 00:02', 'FT-101; m3/h': '3' }, cells: 2 },
    ]);
    const table = parseCsv('datetime,"a,b",c\n2024,"1,5",2\n', 'mem.csv');
    expect(table.header).toEqual(['datetime', 'a,b', 'c']);
    expect(table.cells).toEqual([['2024', '1,5', '2']]);
  });

  it('names the file and line of a broken quote, and a missing file', async () => {
    await expect(rows('a,b\n1,"2\n')).rejects.toThrow(/f\w+\.csv:\d+: Quote Not Closed/);
    const gen = readCsvRows(join(work, 'none.csv'));
    await expect(gen.next()).rejects.toThrow(/cannot read CSV .*none\.csv: ENOENT/);
  });
});
