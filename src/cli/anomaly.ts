import { fitCsv, scoreCsv } from '../anomaly/index.js';
import { createProgress } from '../lib/progress.js';
import { parseNumberOption, type CliIo, type ExitCode } from './io.js';

/** `wwtp-edge anomaly fit --csv FILE --out DIR [--columns a,b] [--rows N]`. */
export async function anomalyFitCommand(opts: { csv: string; out: string; columns?: string; rows: string }, io: CliIo): Promise<ExitCode> {
  const rows = parseNumberOption('rows', opts.rows, 400, (n) => Number.isInteger(n) && n >= 10);
  const columns = opts.columns?.split(',').map((c) => c.trim()).filter(Boolean);
  const progress = createProgress('training epochs', io.stderr);
  try {
    const result = await fitCsv({ csv: opts.csv, out: opts.out, rows, ...(columns ? { columns } : {}) }, (p) => progress.update(p.epoch, p.epochs));
    progress.stop();
    io.stderr.write(`fitted on ${result.trainRows} rows of ${result.columns.length} columns; threshold ${result.threshold.toPrecision(4)}; bundle ${result.dir}\n`);
    return 0;
  } finally {
    progress.stop();
  }
}

/** `wwtp-edge anomaly score --csv FILE --model DIR > scores.csv`. */
export async function anomalyScoreCommand(opts: { csv: string; model: string }, io: CliIo): Promise<ExitCode> {
  const result = await scoreCsv({ csv: opts.csv, model: opts.model }, io.stdout);
  io.stderr.write(`scored ${result.rows} rows, ${result.anomalies} flagged\n`);
  return 0;
}
