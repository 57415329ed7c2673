import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { EdgeError } from '../lib/lifecycle.js';
import { dailyReport, dayBounds, renderReport, type ReportFormat } from '../report/index.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/**
 * `wwtp-edge report --day YYYY-MM-DD [--format csv|html|json] [--config FILE]`: the regulator's daily
 * report from the store file, read-only (beside a running daemon or without one), on stdout.
 */
export async function reportCommand(opts: { day?: string | undefined; format?: string | undefined; config?: string | undefined }, io: CliIo): Promise<ExitCode> {
  if (!opts.day || !dayBounds(opts.day)) throw new UsageError(`--day must be a date YYYY-MM-DD, got "${opts.day ?? ''}"`);
  const format = (opts.format ?? 'csv') as ReportFormat;
  if (!['csv', 'html', 'json'].includes(format)) throw new UsageError(`--format must be csv, html or json, got "${opts.format ?? ''}"`);
  const config = loadConfig({ file: opts.config, env: io.env });
  if (!existsSync(config.storage.path)) throw new EdgeError('NO_STORE', `no store at ${config.storage.path} (storage.path)`, 1);
  const report = await dailyReport(config.storage.path, config, opts.day);
  io.stdout.write(renderReport(report, format).body);
  return 0;
}
