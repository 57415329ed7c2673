import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readBundle, bundleDir } from '../onnx/bundle.js';
import { ModelError } from './errors.js';
import {
  activeVersion, compareVersions, readRegistry, rollbackTarget, scanBundles, withActivation, writeRegistry,
  type ModelActivationEvent, type ShadowRequest,
} from './registry-file.js';
import { loadVerifiedModel } from './session.js';

/** One bundle as `wwtp-edge models list` shows it. */
export interface ModelListing {
  readonly name: string;
  readonly version: string;
  readonly active: boolean;
  readonly kind: string | null;
  readonly createdAt: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  /** Why the bundle cannot be read (bad manifest, sha256 mismatch), else null. */
  readonly problem: string | null;
}

/** Registry actions without a running daemon: the daemon polls registry.json and follows. */
export async function listModels(modelsDir: string): Promise<ModelListing[]> {
  const state = await readRegistry(modelsDir);
  const bundles = await scanBundles(modelsDir);
  const newest = new Map<string, string>();
  for (const b of bundles) {
    const cur = newest.get(b.name);
    if (!cur || compareVersions(b.version, cur) > 0) newest.set(b.name, b.version);
  }
  return Promise.all(bundles.map(async (b): Promise<ModelListing> => {
    const active = (activeVersion(state, b.name) ?? newest.get(b.name)) === b.version;
    try {
      const { manifest } = await readBundle(b.dir);
      return { name: b.name, version: b.version, active, kind: manifest.kind, createdAt: manifest.createdAt, metrics: manifest.metrics, problem: null };
    } catch (error) {
      return { name: b.name, version: b.version, active, kind: null, createdAt: null, metrics: {}, problem: (error as Error).message };
    }
  }));
}

export function formatListing(rows: readonly ModelListing[]): string {
  if (rows.length === 0) return 'no model bundles\n';
  const lines = rows.map((r) => {
    const metrics = Object.entries(r.metrics).slice(0, 4).map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`).join(' ');
    return `${r.active ? '*' : ' '} ${`${r.name}@${r.version}`.padEnd(32)} ${(r.kind ?? '?').padEnd(12)} ${r.problem ? `REFUSED: ${r.problem}` : metrics}`;
  });
  return `${lines.join('\n')}\n`;
}

export interface RegistryCliOptions {
  readonly intraOpThreads?: number;
  readonly now?: () => number;
}

/** Parses `NAME@VERSION`; exit code 2 when it is not. */
export function parseModelRef(ref: string): { name: string; version: string } {
  const at = ref.lastIndexOf('@');
  const name = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (at <= 0 || !version) throw new ModelError('MODEL_BAD_REF', `expected NAME@VERSION, got "${ref}"`, 2);
  return { name, version };
}

async function gateAndRecord(modelsDir: string, name: string, version: string, action: 'activate' | 'rollback', options: RegistryCliOptions): Promise<ModelActivationEvent> {
  const model = await loadVerifiedModel(bundleDir(modelsDir, name, version), { intraOpThreads: options.intraOpThreads ?? 1 });
  await model.session.release();
  if (model.name !== name || model.version !== version) throw new ModelError('MODEL_GATE_FAILED', `bundle in ${name}/${version} names itself ${model.id}`);
  const state = await readRegistry(modelsDir);
  const current = activeVersion(state, name) ?? null;
  const event: ModelActivationEvent = { ts: (options.now ?? Date.now)(), name, version, previous: current, action, by: 'cli' };
  await writeRegistry(modelsDir, withActivation(state, event));
  return event;
}

/** `wwtp-edge models activate NAME@VERSION`: the gate runs here too, so a bad bundle is refused at once. */
export async function activateModel(modelsDir: string, ref: string, options: RegistryCliOptions = {}): Promise<ModelActivationEvent> {
  const { name, version } = parseModelRef(ref);
  const bundles = await scanBundles(modelsDir);
  if (!bundles.some((b) => b.name === name && b.version === version)) throw new ModelError('MODEL_NOT_FOUND', `no bundle ${name}@${version} in ${modelsDir}`, 2);
  // The newest version is implicitly active until the first explicit activation; record it first so
  // that a rollback has somewhere to go.
  const state = await readRegistry(modelsDir);
  if (!activeVersion(state, name)) {
    const implicit = bundles.filter((b) => b.name === name).map((b) => b.version).sort(compareVersions).at(-1);
    if (implicit && implicit !== version) {
      const now = (options.now ?? Date.now)();
      await writeRegistry(modelsDir, withActivation(state, { ts: now, name, version: implicit, previous: null, action: 'initial', by: 'cli' }));
    }
  }
  return gateAndRecord(modelsDir, name, version, 'activate', options);
}

/** `wwtp-edge models rollback NAME`: back to the version active before the current one. */
export async function rollbackModel(modelsDir: string, name: string, options: RegistryCliOptions = {}): Promise<ModelActivationEvent> {
  const { to } = rollbackTarget(await readRegistry(modelsDir), name);
  return gateAndRecord(modelsDir, name, to, 'rollback', options);
}

/** Where `models shadow` finds a candidate: `<dir>/candidates/<name>/<version>` (background retraining), else `<dir>/<name>/<version>`. */
export function candidateDir(modelsDir: string, name: string, version: string): string | undefined {
  return [join(modelsDir, 'candidates', name, version), bundleDir(modelsDir, name, version)].map((d) => resolve(d)).find((d) => existsSync(join(d, 'manifest.json')));
}

/**
 * `wwtp-edge models shadow NAME@VERSION`: the candidate passes the activation gate here, then registry.json
 * asks the daemon to run it in shadow beside the active version (one request per model; a newer one
 * replaces it). The daemon promotes or rejects it at the end of models.lifecycle.shadow.hours.
 */
export async function shadowModel(modelsDir: string, ref: string, options: RegistryCliOptions = {}): Promise<{ name: string; request: ShadowRequest }> {
  const { name, version } = parseModelRef(ref);
  const dir = candidateDir(modelsDir, name, version);
  if (!dir) throw new ModelError('MODEL_NOT_FOUND', `no bundle ${name}@${version} in ${join(modelsDir, 'candidates')} nor ${modelsDir}`, 2);
  const model = await loadVerifiedModel(dir, { intraOpThreads: options.intraOpThreads ?? 1 });
  await model.session.release();
  if (model.name !== name || model.version !== version) throw new ModelError('MODEL_GATE_FAILED', `bundle in ${dir} names itself ${model.id}`);
  const state = await readRegistry(modelsDir);
  if (activeVersion(state, name) === version) throw new ModelError('MODEL_GATE_FAILED', `${name}@${version} is the active version`, 2);
  const request: ShadowRequest = { version, dir, ts: (options.now ?? Date.now)(), by: 'cli' };
  await writeRegistry(modelsDir, { ...state, shadows: { ...state.shadows, [name]: request } });
  return { name, request };
}
