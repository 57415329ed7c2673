/**
 * The report child of the daemon: reads `{ storePath, config, day, format }` as JSON on stdin, writes
 * the rendered report to stdout and ends (exit 0); an error is one line on stderr and exit 1. It reads the
 * store file on a read-only connection of its own, so the daemon's event loop never computes a report.
 */
import type { EdgeConfig } from '../config/schema.js';
import { dailyReport, renderReport, type ReportFormat } from './index.js';

interface ReportJob {
  readonly storePath: string;
  readonly config: EdgeConfig;
  readonly day: string;
  readonly format: ReportFormat;
}

try {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReportJob;
  const report = await dailyReport(job.storePath, job.config, job.day);
  process.stdout.write(renderReport(report, job.format).body);
} catch (error) {
  process.stderr.write(`report failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
