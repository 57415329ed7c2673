import { loadConfig } from '../config/load.js';
import { TRAINABLE_MODELS, trainModel, type TrainableModel } from '../models/train.js';
import { createProgress } from '../lib/progress.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/** `wwtp-edge train autoencoder|predictors [--data FILE|--from-store] [--out DIR]`. */
export async function trainCommand(model: string, opts: { data?: string; fromStore?: boolean; out: string; config?: string }, io: CliIo): Promise<ExitCode> {
  if (!(TRAINABLE_MODELS as readonly string[]).includes(model)) throw new UsageError(`unknown model "${model}": one of ${TRAINABLE_MODELS.join(', ')}`);
  if (opts.data && opts.fromStore) throw new UsageError('give --data FILE or --from-store, not both');
  const config = loadConfig({ file: opts.config, env: io.env });
  const progress = createProgress(`train ${model}`, io.stderr);
  try {
    const result = await trainModel(
      {
        model: model as TrainableModel,
        config,
        out: opts.out,
        ...(opts.data ? { data: opts.data } : {}),
        ...(opts.fromStore ? { fromStore: config.storage.path } : {}),
      },
      (p) => {
        if (p.phase === 'data') progress.update(p.done, p.total);
        else if (p.phase === 'train') progress.update(p.progress.epoch, p.progress.epochs);
        else io.stderr.write(`\nwrote ${p.model} to ${p.dir}\n`);
      },
    );
    progress.stop();
    for (const bundle of result.bundles) io.stdout.write(`${bundle.manifest.name}@${bundle.manifest.version} ${JSON.stringify(bundle.manifest.metrics)}\n`);
    io.stdout.write(`trained on ${result.source}; activate with: wwtp-edge models activate NAME@VERSION\n`);
    return 0;
  } finally {
    progress.stop();
  }
}
