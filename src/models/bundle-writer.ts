import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type * as TfModule from '@tensorflow/tfjs';
import { exportDenseBundle, type ExportDenseOptions } from '../onnx/export.js';
import { VERIFY_TOLERANCE, tfjsReference } from '../onnx/verify.js';
import type { Bundle } from '../onnx/bundle.js';
import { writeReference } from '../inference/reference.js';

/**
 * Exports a verified bundle and stores its reference rows beside it, then moves the finished folder
 * into `<modelsDir>/<name>/<version>` in one rename: the daemon's registry never sees a bundle without
 * the reference its activation gate replays.
 */
export async function writeModelBundle(
  modelsDir: string,
  options: ExportDenseOptions & { readonly model: TfModule.Sequential },
  referenceRows: readonly (readonly number[])[],
  bands?: Readonly<Record<string, { min: number; max: number }>>,
): Promise<Bundle> {
  const { name, version } = options.manifest;
  const target = resolve(modelsDir, name, version);
  if (existsSync(target) && !options.replace) throw new Error(`bundle ${target} already exists`);
  const staging = join(dirname(target), `.staging-${version}-${randomBytes(4).toString('hex')}`);
  await mkdir(dirname(target), { recursive: true });
  try {
    const bundle = await exportDenseBundle(join(staging, version), options);
    const kind = options.manifest.kind === 'predictor' ? 'predictor' : 'autoencoder';
    const outputs = tfjsReference(options.loaded.tf, options.model, kind, options.inputScaler, options.outputScaler, referenceRows);
    const columnScales: Record<string, number[]> = { reconstruction: [...options.inputScaler.scale] };
    if (options.outputScaler) columnScales['prediction'] = [...options.outputScaler.scale];
    await writeReference(bundle.dir, {
      inputs: referenceRows.map((r) => [...r]),
      outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, Array.from(v)])),
      columnScales,
      tolerance: options.tolerance ?? VERIFY_TOLERANCE,
      producedBy: `tensorflow.js (${options.loaded.backend})`,
      ...(bands ? { bands: { ...bands } } : {}),
    });
    if (existsSync(target)) {
      const old = `${target}.old-${randomBytes(4).toString('hex')}`;
      await rename(target, old);
      await rename(bundle.dir, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(bundle.dir, target);
    }
    return { ...bundle, dir: target };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
