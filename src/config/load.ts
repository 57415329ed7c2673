import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { EdgeError } from '../lib/lifecycle.js';
import { configSchema, type EdgeConfig } from './schema.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const defaultConfigPath = resolve(repoRoot, 'config', 'default.yaml');

export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends EdgeError {
  constructor(readonly issues: readonly ConfigIssue[], source: string) {
    super('CONFIG_INVALID', `${source}: ${issues.length} error(s): ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, 2);
  }
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge where the overlay wins; arrays are replaced whole. */
export function overlay(base: unknown, top: unknown): unknown {
  if (!isTree(base) || !isTree(top)) return top === undefined ? base : top;
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(top)) out[key] = overlay(base[key], value);
  return out;
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EdgeError('CONFIG_UNREADABLE', `cannot read config ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 2);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError([{ path: '(yaml)', message: (error as Error).message.split('\n')[0] ?? 'parse error' }], file);
  }
}

const camel = (word: string): string => word.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * WWTP_EDGE_SITE=x -> site; WWTP_EDGE_HTTP__PORT=9090 -> http.port;
 * WWTP_EDGE_STORAGE__MAX_BYTES=1e9 -> storage.maxBytes. Values are parsed as YAML scalars.
 */
export function envOverlay(env: Readonly<Record<string, string | undefined>>): Tree {
  const out: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('WWTP_EDGE_') || raw === undefined || name === 'WWTP_EDGE_DATA') continue;
    const path = name.slice('WWTP_EDGE_'.length).split('__').map(camel);
    let node = out;
    path.slice(0, -1).forEach((key) => {
      const next = isTree(node[key]) ? (node[key] as Tree) : {};
      node[key] = next;
      node = next;
    });
    const leaf = path[path.length - 1];
    if (leaf) node[leaf] = parseYaml(raw) as unknown;
  }
  return out;
}

function issuesOf(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.length ? issue.path.map(String).join('.') : '(root)', message: issue.message }));
}

/** Validates a raw config tree; throws ConfigError listing every problem with its path. */
export function parseConfig(raw: unknown, source = 'config'): Readonly<EdgeConfig> {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(issuesOf(result.error), source);
  return deepFreeze(result.data);
}

export interface LoadOptions {
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra overlay applied last (the demo uses it for ports and paths). */
  readonly override?: unknown;
}

/** default.yaml, overlaid by --config FILE, then WWTP_EDGE_* variables, then `override`. */
export function loadConfig(options: LoadOptions = {}): Readonly<EdgeConfig> {
  let tree = readYaml(defaultConfigPath);
  if (options.file) tree = overlay(tree, readYaml(resolve(options.file)));
  if (options.env) tree = overlay(tree, envOverlay(options.env));
  if (options.override !== undefined) tree = overlay(tree, options.override);
  return parseConfig(tree, options.file ?? defaultConfigPath);
}

/** Validates one file on its own merged over the defaults, for `check-config`. */
export function checkConfigFile(file: string): ConfigIssue[] {
  try {
    loadConfig({ file });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
