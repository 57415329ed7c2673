import { loadConfig } from '../config/load.js';
import { TRAINABLE_MODELS, trainModel, type TrainableModel } from '../models/train.js';
import { parseIsoTime } from '../models/store-data.js';
import { createProgress } from '../lib/progress.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

export interface TrainCommandOptions {
  readonly data?: string | undefined;
  readonly fromStore?: boolean | undefined;
  readonly out: string;
  readonly config?: string | undefined;
  readonly db?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly heldOutDays?: string | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** `wwtp-edge train autoencoder|predictors [--data FILE|--from-store [--db FILE] [--since ISO] [--until ISO] [--held-out-days D]] [--out DIR]`. */
export async function trainCommand(model: string, opts: TrainCommandOptions, io: CliIo): Promise<ExitCode> {
  if (!(TRAINABLE_MODELS as readonly string[]).includes(model)) throw new UsageError(`unknown model "${model}": one of ${TRAINABLE_MODELS.join(', ')}`);
  if (opts.data && opts.fromStore) throw new UsageError('give --data FILE or --from-store, not both');
  if (!opts.fromStore && (opts.db || opts.since || opts.until || opts.heldOutDays)) throw new UsageError('--db, --since, --until and --held-out-days go with --from-store');
  const heldOutDays = opts.heldOutDays !== undefined ? Number(opts.heldOutDays) : undefined;
  if (heldOutDays !== undefined && !(heldOutDays > 0)) throw new UsageError(`--held-out-days "${opts.heldOutDays}" is not a positive number of days`);
  const since = opts.since !== undefined ? parseIsoTime(opts.since, '--since') : undefined;
  const until = opts.until !== undefined ? parseIsoTime(opts.until, '--until') : undefined;
  if (since !== undefined && until !== undefined && until <= since) throw new UsageError(`--until ${opts.until} is not after --since ${opts.since}`);
  const config = loadConfig({ file: opts.config, env: io.env });
  const progress = createProgress(`train ${model}`, io.stderr);
  try {
    const result = await trainModel(
      {
        model: model as TrainableModel,
        config,
        out: opts.out,
        ...(opts.data ? { data: opts.data } : {}),
        ...(opts.fromStore ? { fromStore: opts.db ?? config.storage.path } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        ...(heldOutDays !== undefined ? { heldOutDays } : {}),
      },
      (p) => {
        if (p.phase === 'data') progress.update(p.done, p.total);
        else if (p.phase === 'train') progress.update(p.progress.epoch, p.progress.epochs);
        else io.stderr.write(`\nwrote ${p.model} to ${p.dir}\n`);
      },
    );
    progress.stop();
    if (result.blocks) {
      const { train, heldOut } = result.blocks;
      io.stderr.write(`trained on ${iso(train.first)} to ${iso(train.last)} (${train.windows} windows); held out ${iso(heldOut.first)} to ${iso(heldOut.last)} (${heldOut.windows} windows)\n`);
    }
    for (const l of result.leftOut) io.stderr.write(`left out ${l.what}: ${l.why}\n`);
    // Predictor targets that missed the skill bar on the held-out block: the daemon will not publish them.
    for (const bundle of result.bundles) {
      const inactive = Object.entries(bundle.manifest.eligibility?.targets ?? {}).filter(([, e]) => !e.eligible);
      for (const [target, e] of inactive) io.stderr.write(`not eligible ${bundle.manifest.name} ${target}: ${e.reason}\n`);
      if (bundle.manifest.eligibility && inactive.length === Object.keys(bundle.manifest.eligibility.targets).length) io.stderr.write(`not eligible ${bundle.manifest.name}: no target met the skill bar; the daemon will not run it\n`);
    }
    for (const bundle of result.bundles) {
      const v = bundle.manifest.training.verdicts;
      if (v) io.stderr.write(`verdicts ${bundle.manifest.name}: ${v.falseAlarms} false alarms (${v.falseAlarmWindows} windows, weight ${v.falseAlarmWeight}) learnt as normal; ${v.confirmed} confirmed events (${v.confirmedWindows} windows) left out of normal data\n`);
    }
    for (const bundle of result.bundles) io.stdout.write(`${bundle.manifest.name}@${bundle.manifest.version} ${JSON.stringify(bundle.manifest.metrics)}\n`);
    if (result.bundles.length === 0) {
      io.stderr.write(`no ${model} model could be trained from ${result.source}\n`);
      return 1;
    }
    io.stdout.write(`trained on ${result.source}; activate with: wwtp-edge models activate NAME@VERSION\n`);
    return 0;
  } finally {
    progress.stop();
  }
}
