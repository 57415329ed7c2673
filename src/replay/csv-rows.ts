import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError } from '../cli/io.js';

/** Streams a delimited text file as header-keyed rows; the separator (`;`, `,` or tab) is detected. */
export async function* readCsvRows(file: string): AsyncGenerator<{ line: number; row: Record<string, string> }> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let header: string[] | undefined;
  let separator = ',';
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      if (!header) {
        separator = [';', '\t', ','].find((s) => text.includes(s)) ?? ',';
        header = text.split(separator).map((h) => h.trim().replace(/^"|"$/g, ''));
        continue;
      }
      const cells = text.split(separator);
      const row: Record<string, string> = {};
      header.forEach((name, i) => {
        row[name] = (cells[i] ?? '').trim().replace(/^"|"$/g, '');
      });
      yield { line, row };
    }
  } catch (error) {
    throw new UsageError(`cannot read CSV ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!header) throw new UsageError(`CSV ${file} is empty`);
}
