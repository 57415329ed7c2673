import { activateModel, formatListing, listModels, rollbackModel } from '../inference/index.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/** `wwtp-edge models list | activate NAME@VERSION | rollback NAME`. */
export async function modelsCommand(action: 'list' | 'activate' | 'rollback', ref: string | undefined, opts: { dir: string }, io: CliIo): Promise<ExitCode> {
  if (action === 'list') {
    io.stdout.write(`${formatListing(await listModels(opts.dir))}\n`);
    return 0;
  }
  if (!ref) throw new UsageError(`models ${action} needs ${action === 'activate' ? 'NAME@VERSION' : 'NAME'}`);
  const event = action === 'activate' ? await activateModel(opts.dir, ref) : await rollbackModel(opts.dir, ref);
  io.stdout.write(`${JSON.stringify(event)}\n`);
  return 0;
}
