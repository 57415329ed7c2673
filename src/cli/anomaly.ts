import { fitCsv, scoreCsv } from '../anomaly/index.js';
import { createProgress } from '../lib/progress.js';
import { parseNumberOption, type CliIo, type ExitCode } from './io.js';

/** `wwtp-edge anomaly fit --csv FILE --out DIR [--columns a,b] [--rows N] [--keep-drifting]`. */
export async function anomalyFitCommand(opts: { csv: string; out: string; columns?: string; rows?: string; keepDrifting?: boolean }, io: CliIo): Promise<ExitCode> {
  const rows = opts.rows === undefined ? undefined : parseNumberOption('rows', opts.rows, 0, (n) => Number.isInteger(n) && n >= 10);
  const columns = opts.columns?.split(',').map((c) => c.trim()).filter(Boolean);
  const progress = createProgress('training epochs', io.stderr);
  try {
    const options = { csv: opts.csv, out: opts.out, ...(rows !== undefined ? { rows } : {}), ...(columns ? { columns } : {}), ...(opts.keepDrifting === true ? { keepDrifting: true } : {}) };
    const result = await fitCsv(options, (p) => progress.update(p.epoch, p.epochs));
    progress.stop();
    for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
    if (result.leftOut.length > 0) io.stderr.write(`left out: ${result.leftOut.map((l) => `${l.column} (${l.reason})`).join(', ')}\n`);
    const used = result.rowsUsed;
    const imputed = (used['imputedShortGap'] ?? 0) > 0 ? `, ${used['imputedShortGap']} with a short gap bridged` : '';
    const skipped = (used['skippedMissing'] ?? 0) > 0 ? `, ${used['skippedMissing']} skipped for a missing input` : '';
    io.stderr.write(
      `fitted on ${result.trainRows} rows (${used['scalerAndThreshold']} for scaler and threshold${imputed}${skipped}; network on ${used['network']}) of ${result.columns.length} columns; threshold ${result.threshold.toPrecision(4)}; bundle ${result.dir}\n`,
    );
    return 0;
  } finally {
    progress.stop();
  }
}

/** `wwtp-edge anomaly score --csv FILE --model DIR > scores.csv`. */
export async function anomalyScoreCommand(opts: { csv: string; model: string }, io: CliIo): Promise<ExitCode> {
  const result = await scoreCsv({ csv: opts.csv, model: opts.model }, io.stdout);
  const partial = result.partialRows > 0 ? `, ${result.partialRows} scored with inputs missing` : '';
  const none = result.noVerdictRows > 0 ? `, ${result.noVerdictRows} with no input (no verdict)` : '';
  io.stderr.write(`scored ${result.rows} rows, ${result.anomalies} flagged${partial}${none}\n`);
  return 0;
}
