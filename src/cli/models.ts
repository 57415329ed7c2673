import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../config/load.js';
import { activateModel, candidateDir, formatListing, listModels, parseModelRef, rollbackModel, shadowModel } from '../inference/index.js';
import { gateSummary, qualityGate } from '../lifecycle/gate.js';
import { recordModelEvent } from '../lifecycle/record.js';
import { EdgeError } from '../lib/lifecycle.js';
import { loadConfig } from '../config/load.js';
import { createProgress } from '../lib/progress.js';
import { evaluateModels, formatEvaluation, resolveBundles } from '../models/evaluate.js';
import { parseIsoTime } from '../models/store-data.js';
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

export interface ModelsCommandOptions {
  readonly dir?: string | undefined;
  readonly cwd?: string;
  /** activate: judge the candidate against the active version on the store's most recent block first. */
  readonly fromStore?: boolean | undefined;
  readonly since?: string | undefined;
  readonly db?: string | undefined;
  readonly config?: string | undefined;
}

/**
 * The quality gate before an activation: the report goes into the store's model_events (`gate`), and
 * a failed gate stops the activation with its reasons (exit 1); the active version stays.
 */
async function gateBeforeActivation(dir: string, ref: string, opts: ModelsCommandOptions, io: CliIo, what = 'activated'): Promise<void> {
  const { name, version } = parseModelRef(ref);
  const config = loadConfig({ file: opts.config, env: io.env });
  const store = opts.db ?? config.storage.path;
  const current = (await listModels(dir)).find((m) => m.name === name && m.active && m.version !== version);
  const since = opts.since !== undefined ? parseIsoTime(opts.since, '--since') : undefined;
  const report = await qualityGate(candidateDir(dir, name, version) ?? join(dir, name, version), current ? join(dir, name, current.version) : undefined, { config, gate: config.models.lifecycle.gate, store, since });
  const reason = gateSummary(report);
  recordModelEvent(store, config.site, { ts: Date.now(), model: `${name}@${version}`, event: 'gate', by: 'cli', previous: current?.version ?? null, reason, detail: JSON.stringify(report) });
  io.stderr.write(`${name}@${version}: ${reason}\n`);
  if (!report.passed) throw new EdgeError('MODEL_GATE_FAILED', `${name}@${version} not ${what}: ${report.reasons.join('; ')}`, 1);
}

/** `wwtp-edge models list | activate NAME@VERSION | rollback NAME`. */
export async function modelsCommand(action: 'list' | 'activate' | 'rollback' | 'shadow', ref: string | undefined, opts: ModelsCommandOptions, io: CliIo): Promise<ExitCode> {
  const dir = modelsDir(opts.dir, opts.cwd ?? resolve('.'));
  if (!existsSync(dir)) throw new UsageError(`no models folder at ${dir} (give it with --dir)`);
  if (action === 'list') {
    const rows = await listModels(dir);
    if (rows.length === 0) throw new UsageError(`no model bundles in ${dir} (give the folder with --dir)`);
    io.stdout.write(`models in ${dir}\n${formatListing(rows)}`);
    return 0;
  }
  if (!ref) throw new UsageError(`models ${action} needs ${action === 'rollback' ? 'NAME' : 'NAME@VERSION'}`);
  if (action === 'shadow') {
    if (opts.fromStore) await gateBeforeActivation(dir, ref, opts, io, 'run in shadow');
    const { name, request } = await shadowModel(dir, ref);
    io.stdout.write(`${JSON.stringify({ name, ...request })}\n`);
    return 0;
  }
  if (action === 'activate' && opts.fromStore) await gateBeforeActivation(dir, ref, opts, io);
  const event = action === 'activate' ? await activateModel(dir, ref) : await rollbackModel(dir, ref);
  io.stdout.write(`${JSON.stringify(event)}\n`);
  return 0;
}

export interface EvaluateCommandOptions {
  readonly fromStore?: boolean | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly json?: boolean | undefined;
  readonly config?: string | undefined;
  readonly db?: string | undefined;
  readonly dir?: string | undefined;
  readonly cwd?: string;
}

/** NaN and infinities as null: JSON has no number for "undefined here". */
const finiteOrNull = (_key: string, value: unknown): unknown => (typeof value === 'number' && !Number.isFinite(value) ? null : value);

/** `wwtp-edge models evaluate NAME@VERSION|DIR --from-store --since ISO [--until ISO] [--json]`. */
export async function modelsEvaluateCommand(ref: string, opts: EvaluateCommandOptions, io: CliIo): Promise<ExitCode> {
  if (!opts.fromStore) throw new UsageError('models evaluate needs --from-store (the readings to judge the model on)');
  if (!opts.since) throw new UsageError('models evaluate needs --since ISO (the start of the block to judge on)');
  const since = parseIsoTime(opts.since, '--since');
  const until = opts.until !== undefined ? parseIsoTime(opts.until, '--until') : undefined;
  if (until !== undefined && until <= since) throw new UsageError(`--until ${opts.until} is not after --since ${opts.since}`);
  const cwd = opts.cwd ?? resolve('.');
  const config = loadConfig({ file: opts.config, env: io.env });
  // A folder as given (relative to the working directory), else NAME@VERSION in the models folder.
  const dirs = await resolveBundles(existsSync(resolve(cwd, ref)) ? resolve(cwd, ref) : ref, modelsDir(opts.dir, cwd));
  const progress = createProgress('evaluate', io.stderr);
  try {
    const result = await evaluateModels(dirs, { config, store: opts.db ?? config.storage.path, since, until, onProgress: (d, t) => progress.update(d, t) });
    progress.stop();
    io.stdout.write(opts.json ? `${JSON.stringify(result, finiteOrNull, 2)}\n` : formatEvaluation(result));
    return 0;
  } finally {
    progress.stop();
  }
}
