import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { EdgeError } from '../lib/lifecycle.js';
import { isTree, mergeLayers, renderLayerPath, renderPath, sourceAt, type ConfigNode, type ConfigPath, type Layer, type RawIssue } from './merge.js';
import { referenceFindings } from './references.js';
import { configSchema, type EdgeConfig } from './schema.js';
import { deploymentIssues, deploymentWarnings, urlIssues } from './site-checks.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const defaultConfigPath = resolve(repoRoot, 'config', 'default.yaml');

export interface ConfigIssue {
  /** Where in the merged config: `http.port`, `control.loops[do].feedback`, `signals[membrane/tmp].max`. */
  readonly path: string;
  readonly message: string;
  /** The file or WWTP_EDGE_* variable that set the value (or holds the entry). */
  readonly source: string;
}

export const formatIssue = (issue: ConfigIssue): string => `${issue.source}: ${issue.path}: ${issue.message}`;

export class ConfigError extends EdgeError {
  /** One line per error, for the entry to print one by one. */
  readonly lines: readonly string[];
  constructor(readonly issues: readonly ConfigIssue[]) {
    const lines = issues.map(formatIssue);
    super('CONFIG_INVALID', `invalid config, ${issues.length} error(s): ${lines.join(' | ')}`, 2);
    this.lines = [...lines, `invalid config: ${issues.length} error(s)`];
  }
}

function readYaml(file: string, label = file): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([{ source: label, path: '(file)', message: code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(error)})` }]);
  }
  try {
    return { source: label, tree: parseYaml(text) ?? {} };
  } catch (error) {
    throw new ConfigError([{ source: label, path: '(yaml)', message: (error as Error).message.split('\n')[0] ?? 'parse error' }]);
  }
}

const camel = (word: string): string => word.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Variables that are not config keys: the data folder, and the test and bench knobs that spawn daemons. */
export const NOT_CONFIG: ReadonlySet<string> = new Set(['WWTP_EDGE_DATA', 'WWTP_EDGE_TEST_MARIADB', 'WWTP_EDGE_BLACKBOX_SCALE', 'WWTP_EDGE_RELIABILITY_OUT']);

/**
 * One layer per variable, named after it: WWTP_EDGE_SITE=x -> site; WWTP_EDGE_HTTP__PORT=9090 -> http.port;
 * WWTP_EDGE_STORAGE__MAX_BYTES=1e9 -> storage.maxBytes. Values are parsed as YAML scalars.
 */
export function envLayers(env: Readonly<Record<string, string | undefined>>): Layer[] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[0].startsWith('WWTP_EDGE_') && e[1] !== undefined && !NOT_CONFIG.has(e[0]))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, raw]) => {
      const path = name.slice('WWTP_EDGE_'.length).split('__').map(camel);
      let value: unknown;
      try {
        value = parseYaml(raw) as unknown;
      } catch {
        value = raw;
      }
      const tree = path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value);
      return { source: name, tree };
    });
}

/** The variables as one tree (what they set, without their sources). */
export function envOverlay(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const merged = mergeLayers(envLayers(env)).tree;
  return isTree(merged) ? merged : {};
}

/** Zod's issues with their paths; an unknown key gets its own path. */
function schemaIssues(error: z.ZodError): RawIssue[] {
  return error.issues.flatMap((issue): RawIssue[] => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
    return [{ path, message: issue.message }];
  });
}

export interface ConfigCheck {
  /** Set when there are no errors. */
  readonly config?: Readonly<EdgeConfig>;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/**
 * Every check at once on the merged layers: merge problems, the schema, the cross-references, URLs,
 * and (deployment) files and broker access. Nothing waits for another check to pass first.
 */
export function checkLayers(layers: readonly Layer[], opts: { deployment?: boolean } = {}): ConfigCheck {
  const merged = mergeLayers(layers);
  const place = (raw: RawIssue): ConfigIssue =>
    raw.source !== undefined
      ? { path: renderLayerPath(raw.path), message: raw.message, source: raw.source }
      : { path: renderPath(merged.root, raw.path), message: raw.message, source: sourceAt(merged.root, raw.path) };
  const parsed = configSchema.safeParse(merged.tree);
  const references = referenceFindings(merged.tree);
  const raws = [
    ...merged.issues,
    ...(parsed.success ? [] : schemaIssues(parsed.error)),
    ...references.errors,
    ...urlIssues(merged.tree),
    ...(opts.deployment ? deploymentIssues(merged.tree) : []),
  ];
  const errors = dedupe(raws.map(place));
  const warnings = [...references.warnings, ...(opts.deployment ? deploymentWarnings(merged.tree) : [])].map(place);
  if (errors.length > 0 || !parsed.success) return { errors, warnings };
  return { config: deepFreeze(parsed.data), errors, warnings };
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const line = formatIssue(i);
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

/** Validates a raw config tree on its own (no default underneath); throws ConfigError listing every problem. */
export function parseConfig(raw: unknown, source = 'config'): Readonly<EdgeConfig> {
  const result = checkLayers([{ source, tree: raw }]);
  if (!result.config) throw new ConfigError(result.errors);
  return result.config;
}

export interface LoadOptions {
  readonly file?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra overlay applied last (the demo uses it for ports and paths). */
  readonly override?: unknown;
  /** Named in errors about values the override set. */
  readonly overrideSource?: string;
}

/** default.yaml, overlaid by --config FILE, then each WWTP_EDGE_* variable, then `override`. */
export function configLayers(options: LoadOptions = {}): Layer[] {
  return [
    readYaml(defaultConfigPath),
    ...(options.file ? [readYaml(resolve(options.file), options.file)] : []),
    ...(options.env ? envLayers(options.env) : []),
    ...(options.override !== undefined ? [{ source: options.overrideSource ?? '(override)', tree: options.override }] : []),
  ];
}

/** The merged, validated, frozen config; throws ConfigError with every error. */
export function loadConfig(options: LoadOptions = {}): Readonly<EdgeConfig> {
  const result = checkLayers(configLayers(options));
  if (!result.config) throw new ConfigError(result.errors);
  return result.config;
}

/**
 * What `run` and `check-config` both do: the layers, every check of loadConfig, and the deployment
 * checks (files readable, a broker some client can log in to). Unreadable files come back as errors.
 */
export function checkConfig(options: LoadOptions = {}): ConfigCheck {
  let layers: Layer[];
  try {
    layers = configLayers(options);
  } catch (error) {
    if (error instanceof ConfigError) return { errors: error.issues, warnings: [] };
    throw error;
  }
  return checkLayers(layers, { deployment: true });
}

/** checkConfig for a daemon about to start: the config and its warnings, or a ConfigError. */
export function loadDaemonConfig(options: LoadOptions = {}): { config: Readonly<EdgeConfig>; warnings: readonly ConfigIssue[] } {
  const result = checkConfig(options);
  if (!result.config) throw new ConfigError(result.errors);
  return { config: result.config, warnings: result.warnings };
}

export type { ConfigNode, ConfigPath, Layer };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
