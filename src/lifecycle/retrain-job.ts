import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { EdgeConfig } from '../config/schema.js';
import { trainModel, type TrainableModel } from '../models/train.js';
import { qualityGate, type GateReport } from './gate.js';

/** What the daemon hands the training child (a JSON file, its only argument). */
export interface RetrainJob {
  readonly id: string;
  readonly kind: TrainableModel;
  /** Model names whose triggers asked for this retraining; only their bundles are kept. */
  readonly models: readonly string[];
  /** The daemon's store file, read only. */
  readonly store: string;
  /** `<models.dir>/candidates`. */
  readonly candidates: string;
  readonly version: string;
  /** Active bundle folder per model name, the gate's reference. */
  readonly active: Readonly<Record<string, string>>;
  readonly nice: number;
  readonly config: EdgeConfig;
}

export interface RetrainedCandidate {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly report: GateReport;
}

/** The child's last stdout line. */
export interface RetrainResult {
  readonly id: string;
  readonly source: string;
  readonly blocks?: { readonly train: { first: number; last: number; windows: number }; readonly heldOut: { first: number; last: number; windows: number } } | undefined;
  readonly candidates: readonly RetrainedCandidate[];
  /** Requested models that came out of training without a bundle, and why. */
  readonly notTrained: readonly { readonly name: string; readonly why: string }[];
}

/**
 * The training child: trains the job's model kind from the store (time-blocked, as `train --from-store`),
 * keeps the requested models' bundles under `candidates/<name>/<version>` and runs the quality gate of
 * `models activate --from-store` on each against the active version. Never activates anything.
 */
export async function runRetrainJob(job: RetrainJob, log: (line: string) => void): Promise<RetrainResult> {
  try {
    setPriority(job.nice);
  } catch (error) {
    log(`priority not lowered: ${error instanceof Error ? error.message : String(error)}`);
  }
  const staging = join(job.candidates, `.staging-${job.id}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const result = await trainModel({ model: job.kind, config: job.config, fromStore: job.store, heldOutDays: job.config.models.lifecycle.gate.heldOutDays, out: staging, version: job.version }, (p) => {
      if (p.phase === 'written') log(`wrote ${p.model}`);
    });
    const candidates: RetrainedCandidate[] = [];
    const notTrained: { name: string; why: string }[] = [];
    for (const name of job.models) {
      const bundle = result.bundles.find((b) => b.manifest.name === name);
      if (!bundle) {
        notTrained.push({ name, why: result.leftOut.find((l) => l.what === name)?.why ?? `no ${name} bundle came out of training on ${result.source}` });
        continue;
      }
      const dir = join(job.candidates, name, job.version);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(join(job.candidates, name), { recursive: true });
      renameSync(bundle.dir, dir);
      const active = job.active[name];
      const report = await qualityGate(dir, active !== undefined && existsSync(active) ? active : undefined, { config: job.config, gate: job.config.models.lifecycle.gate, store: job.store });
      candidates.push({ name, version: job.version, dir, metrics: bundle.manifest.metrics, report });
    }
    return { id: job.id, source: result.source, blocks: result.blocks, candidates, notTrained };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
