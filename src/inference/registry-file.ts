import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { MANIFEST_FILE } from '../onnx/bundle.js';
import { ModelError } from './errors.js';

/**
 * The registry state lives in `<models.dir>/registry.json`, so `wwtp-edge models activate|rollback`
 * works without a running daemon and the daemon picks the change up (it polls the file). Per model:
 * the stack of activated versions (last = active); rollback pops it.
 */
export const REGISTRY_FILE = 'registry.json';
const MAX_EVENTS = 200;

export const activationEventSchema = z.object({
  ts: z.number(),
  name: z.string(),
  version: z.string(),
  previous: z.string().nullable(),
  /** promote: the daemon's promotion of a candidate after its shadow run (pushed like an activation). */
  action: z.enum(['activate', 'rollback', 'initial', 'promote']),
  by: z.enum(['cli', 'daemon']),
  /** Why (the daemon's promotions and automatic rollbacks). */
  reason: z.string().optional(),
});
export type ModelActivationEvent = z.infer<typeof activationEventSchema>;

/** `wwtp-edge models shadow NAME@VERSION`: a candidate the daemon runs in shadow (one per model). */
export const shadowRequestSchema = z.object({
  version: z.string(),
  /** The candidate's bundle folder (under `candidates/` or the models folder). */
  dir: z.string(),
  ts: z.number(),
  by: z.enum(['cli', 'daemon']),
});
export type ShadowRequest = z.infer<typeof shadowRequestSchema>;

export const registryStateSchema = z.object({
  models: z.record(z.string(), z.object({ history: z.array(z.string()) })),
  events: z.array(activationEventSchema),
  shadows: z.record(z.string(), shadowRequestSchema).optional(),
});
export type RegistryState = z.infer<typeof registryStateSchema>;

export const emptyRegistry = (): RegistryState => ({ models: {}, events: [] });

export async function readRegistry(modelsDir: string): Promise<RegistryState> {
  const file = join(resolve(modelsDir), REGISTRY_FILE);
  if (!existsSync(file)) return emptyRegistry();
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ModelError('MODEL_REGISTRY_INVALID', `${file} is not JSON: ${(error as Error).message}`, 2);
  }
  const parsed = registryStateSchema.safeParse(json);
  if (!parsed.success) throw new ModelError('MODEL_REGISTRY_INVALID', `${file} invalid at ${parsed.error.issues[0]?.path.join('.') ?? '(root)'}`, 2);
  return parsed.data;
}

/** Write-then-rename: a concurrent reader sees the old file or the new one, never half of one. */
export async function writeRegistry(modelsDir: string, state: RegistryState): Promise<void> {
  const dir = resolve(modelsDir);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${REGISTRY_FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, `${JSON.stringify({ ...state, events: state.events.slice(-MAX_EVENTS) }, null, 2)}\n`);
  await rename(temp, join(dir, REGISTRY_FILE));
}

export function activeVersion(state: RegistryState, name: string): string | undefined {
  return state.models[name]?.history.at(-1);
}

/** Pure: the state after activating `version`. */
export function withActivation(state: RegistryState, event: ModelActivationEvent): RegistryState {
  const history = [...(state.models[event.name]?.history ?? [])];
  if (event.action === 'rollback') history.pop();
  else if (history.at(-1) !== event.version) history.push(event.version);
  return { ...state, models: { ...state.models, [event.name]: { history } }, events: [...state.events, event] };
}

/** The version a rollback would return to, or an error naming why there is none. */
export function rollbackTarget(state: RegistryState, name: string): { from: string; to: string } {
  const history = state.models[name]?.history ?? [];
  const from = history.at(-1);
  const to = history.at(-2);
  if (!from || !to) throw new ModelError('MODEL_NO_PREVIOUS', `model ${name} has no previous version to roll back to`, 2);
  return { from, to };
}

export interface BundleEntry {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
}

/** Every `<name>/<version>/manifest.json` under the models folder (no validation: listing is cheap). */
export async function scanBundles(modelsDir: string): Promise<BundleEntry[]> {
  const root = resolve(modelsDir);
  if (!existsSync(root)) return [];
  const out: BundleEntry[] = [];
  for (const name of (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.'))) {
    for (const version of (await readdir(join(root, name.name), { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.'))) {
      const dir = join(root, name.name, version.name);
      if (existsSync(join(dir, MANIFEST_FILE))) out.push({ name: name.name, version: version.name, dir });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || compareVersions(a.version, b.version));
}

/** Natural order: v2 < v10, 1.9.0 < 1.10.0. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
