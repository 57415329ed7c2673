import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../config/load.js';
import { activateModel, formatListing, listModels, rollbackModel } from '../inference/index.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/**
 * The models folder: --dir as given (relative to the working directory); else `models` in the working
 * directory when there is one, else the package's own `models` folder.
 */
export function modelsDir(dir: string | undefined, cwd: string): string {
  if (dir !== undefined) return resolve(cwd, dir);
  const local = join(cwd, 'models');
  return existsSync(local) ? local : join(repoRoot, 'models');
}

/** `wwtp-edge models list | activate NAME@VERSION | rollback NAME`. */
export async function modelsCommand(action: 'list' | 'activate' | 'rollback', ref: string | undefined, opts: { dir?: string | undefined; cwd?: string }, io: CliIo): Promise<ExitCode> {
  const dir = modelsDir(opts.dir, opts.cwd ?? resolve('.'));
  if (!existsSync(dir)) throw new UsageError(`no models folder at ${dir} (give it with --dir)`);
  if (action === 'list') {
    const rows = await listModels(dir);
    if (rows.length === 0) throw new UsageError(`no model bundles in ${dir} (give the folder with --dir)`);
    io.stdout.write(`models in ${dir}\n${formatListing(rows)}`);
    return 0;
  }
  if (!ref) throw new UsageError(`models ${action} needs ${action === 'activate' ? 'NAME@VERSION' : 'NAME'}`);
  const event = action === 'activate' ? await activateModel(dir, ref) : await rollbackModel(dir, ref);
  io.stdout.write(`${JSON.stringify(event)}\n`);
  return 0;
}
