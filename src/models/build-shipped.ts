/**
 * Rebuilds every bundle shipped in models/ from the plant twin, deterministically (fixed seeds, fixed
 * version and creation time): `npx tsx src/models/build-shipped.ts [--only autoencoder|predictors]`.
 * The bundles are built in a hidden folder of models/ (the registry skips dot folders) and swapped in
 * only once all of them are written, so models/ never holds a half-built set.
 * Takes about a quarter of an hour on one core.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, repoRoot } from '../config/load.js';
import type { Bundle } from '../onnx/bundle.js';
import { TRAINING_TWIN, trainModel, twinDataSets, type TrainModelProgress } from './train.js';

export const SHIPPED_VERSION = '1.0.0';
export const SHIPPED_CREATED_AT = '2025-01-01T00:00:00.000Z';

function report(p: TrainModelProgress): void {
  if (p.phase === 'data') console.log(`twin data: ${p.label} (${p.done}/${p.total})`);
  else if (p.phase === 'written') console.log(`written ${p.model} -> ${p.dir}`);
  else if (p.progress.epoch % 25 === 0) console.log(`${p.model}: epoch ${p.progress.epoch} loss ${p.progress.loss.toFixed(5)} validation ${p.progress.validationLoss.toFixed(5)}`);
}

/** Moves each built `<name>/<version>` over the shipped one (old one aside first, then removed). */
async function swapIn(built: string, out: string): Promise<void> {
  for (const name of await readdir(built)) {
    for (const version of await readdir(join(built, name))) {
      const target = join(out, name, version);
      await mkdir(join(out, name), { recursive: true });
      const old = `${join(out, name)}/.old-${version}-${randomBytes(4).toString('hex')}`;
      if (existsSync(target)) await rename(target, old);
      await rename(join(built, name, version), target);
      await rm(old, { recursive: true, force: true });
    }
  }
}

const config = loadConfig();
const out = resolve(repoRoot, 'models');
const staging = join(out, `.build-${randomBytes(4).toString('hex')}`);
const { values } = parseArgs({ options: { only: { type: 'string' } } });
const models = (['autoencoder', 'predictors'] as const).filter((m) => !values.only || values.only === m);
try {
  const windows = twinDataSets(config, TRAINING_TWIN, report);
  const bundles: Bundle[] = [];
  for (const model of models) {
    const result = await trainModel({ model, config, out: staging, version: SHIPPED_VERSION, createdAt: SHIPPED_CREATED_AT, seed: 42, windows }, report);
    bundles.push(...result.bundles);
  }
  await swapIn(staging, out);
  for (const b of bundles) console.log(`${b.manifest.name}@${b.manifest.version}: ${JSON.stringify(b.manifest.metrics)}`);
} finally {
  await rm(staging, { recursive: true, force: true });
}
