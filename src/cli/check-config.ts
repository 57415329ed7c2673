import { existsSync } from 'node:fs';
import { checkConfigFile } from '../config/load.js';
import type { CliIo, ExitCode } from './io.js';

/** `wwtp-edge check-config FILE`: every error on its own line with its path; exit 2 when invalid. */
export function checkConfigCommand(file: string, io: CliIo): ExitCode {
  if (!existsSync(file)) {
    io.stderr.write(`check-config: no such file ${file}\n`);
    return 2;
  }
  const issues = checkConfigFile(file);
  if (issues.length === 0) {
    io.stdout.write(`${file}: valid\n`);
    return 0;
  }
  for (const issue of issues) io.stderr.write(`${file}: ${issue.path}: ${issue.message}\n`);
  io.stderr.write(`${file}: ${issues.length} error(s)\n`);
  return 2;
}
