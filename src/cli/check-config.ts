import { checkConfig, formatIssue } from '../config/load.js';
import type { CliIo, ExitCode } from './io.js';

/**
 * `wwtp-edge check-config FILE`: the checks `run` makes before it starts, on the same layers
 * (default.yaml, FILE, the WWTP_EDGE_* variables of this environment). One line per error with its
 * source and path; warnings too; exit 2 when invalid.
 */
export function checkConfigCommand(file: string, io: CliIo): ExitCode {
  const { errors, warnings } = checkConfig({ file, env: io.env });
  for (const warning of warnings) io.stderr.write(`warning: ${formatIssue(warning)}\n`);
  if (errors.length === 0) {
    io.stdout.write(`${file}: valid${warnings.length ? ` (${warnings.length} warning(s))` : ''}\n`);
    return 0;
  }
  for (const issue of errors) io.stderr.write(`${formatIssue(issue)}\n`);
  io.stderr.write(`${file}: ${errors.length} error(s)\n`);
  return 2;
}
