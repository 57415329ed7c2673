import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EdgeError } from '../lib/lifecycle.js';
import { MANIFEST_FILE, ONNX_FILE, manifestSchema, type Manifest, type ManifestDraft } from './manifest.js';

export { MANIFEST_FILE, ONNX_FILE, manifestSchema, inputLabel } from './manifest.js';
export type { Manifest, ManifestDraft, ModelInput, DetectorPostprocess } from './manifest.js';

export class BundleError extends EdgeError {
  constructor(code: string, message: string, exitCode: 1 | 2 = 1) {
    super(code, message, exitCode);
    this.name = 'BundleError';
  }
}

export interface Bundle {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly onnx: Uint8Array;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where the registry keeps a version: `<modelsDir>/<name>/<version>`. */
export function bundleDir(modelsDir: string, name: string, version: string): string {
  return join(modelsDir, name, version);
}

/**
 * Writes model.onnx and manifest.json into a sibling temp folder, then renames it into place, so a
 * reader (the daemon's hot swap) never sees half a bundle. An existing bundle is replaced only when
 * asked: registry versions are immutable, offline detector folders are refitted in place.
 */
export async function writeBundle(dir: string, draft: ManifestDraft, onnx: Uint8Array, options: { replace?: boolean } = {}): Promise<Bundle> {
  const { opset, ...rest } = draft;
  const candidate = { ...rest, schemaVersion: 1, onnx: { file: ONNX_FILE, sha256: sha256(onnx), opset, bytes: onnx.byteLength } };
  const parsed = manifestSchema.safeParse(candidate);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new BundleError('BUNDLE_MANIFEST_INVALID', `manifest invalid at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`);
  }
  const target = resolve(dir);
  if (existsSync(target) && !options.replace) throw new BundleError('BUNDLE_EXISTS', `bundle ${target} already exists`, 2);
  await mkdir(dirname(target), { recursive: true });
  const suffix = randomBytes(6).toString('hex');
  const temp = join(dirname(target), `.${basename(target)}.tmp-${suffix}`);
  await mkdir(temp);
  try {
    await writeFile(join(temp, ONNX_FILE), onnx);
    await writeFile(join(temp, MANIFEST_FILE), `${JSON.stringify(parsed.data, null, 2)}\n`);
    if (existsSync(target)) {
      const old = join(dirname(target), `.${basename(target)}.old-${suffix}`);
      await rename(target, old);
      await rename(temp, target);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(temp, target);
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return { dir: target, manifest: parsed.data, onnx };
}

/** Loads a bundle and refuses it when the manifest is invalid or model.onnx is not the file it names. */
export async function readBundle(dir: string): Promise<Bundle> {
  const target = resolve(dir);
  let text: string;
  try {
    text = await readFile(join(target, MANIFEST_FILE), 'utf8');
  } catch {
    throw new BundleError('BUNDLE_NOT_FOUND', `no ${MANIFEST_FILE} in ${target}`, 2);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BundleError('BUNDLE_MANIFEST_INVALID', `${join(target, MANIFEST_FILE)} is not JSON: ${(error as Error).message}`, 2);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new BundleError('BUNDLE_MANIFEST_INVALID', `${join(target, MANIFEST_FILE)} invalid at ${first?.path.join('.') || '(root)'}: ${first?.message ?? 'unknown'}`, 2);
  }
  let onnx: Uint8Array;
  try {
    onnx = new Uint8Array(await readFile(join(target, parsed.data.onnx.file)));
  } catch {
    throw new BundleError('BUNDLE_NOT_FOUND', `no ${parsed.data.onnx.file} in ${target}`, 2);
  }
  const actual = sha256(onnx);
  if (actual !== parsed.data.onnx.sha256) {
    throw new BundleError('BUNDLE_SHA_MISMATCH', `${join(target, parsed.data.onnx.file)} sha256 ${actual} does not match the manifest (${parsed.data.onnx.sha256})`);
  }
  return { dir: target, manifest: parsed.data, onnx };
}
