import { accessSync, constants, statSync } from 'node:fs';
import { isTree, type ConfigPath, type RawIssue } from './merge.js';

/**
 * What the schema cannot see: URLs in a scheme the daemon speaks, files that exist and can be read,
 * a broker that some client can log in to. `run` and `check-config` run the same checks, so that a
 * pre-flight check that passes means a start that passes them too.
 */

const at = (tree: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((node, key) => (isTree(node) ? node[key] : undefined), tree);

const URL_SCHEMES: readonly { readonly path: readonly string[]; readonly schemes: readonly string[]; readonly example: string }[] = [
  { path: ['sync', 'mariadb', 'url'], schemes: ['mariadb:', 'mysql:'], example: 'mariadb://user@host:3306/database' },
  { path: ['broker', 'external', 'url'], schemes: ['mqtt:', 'mqtts:', 'ws:', 'wss:'], example: 'mqtt://host:1883' },
];

/** URLs that do not parse or use a scheme the daemon has no client for. */
export function urlIssues(tree: unknown): RawIssue[] {
  return URL_SCHEMES.flatMap(({ path, schemes, example }): RawIssue[] => {
    const value = at(tree, ...path);
    if (typeof value !== 'string') return [];
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return [{ path, message: `"${value}" is not a URL, expected e.g. ${example}` }];
    }
    if (!schemes.includes(url.protocol)) return [{ path, message: `scheme ${url.protocol.replace(/:$/, '')} is not one the daemon speaks (${schemes.map((s) => s.replace(/:$/, '')).join(', ')})` }];
    if (!url.hostname) return [{ path, message: `"${value}" names no host, expected e.g. ${example}` }];
    return [];
  });
}

/** The files the daemon will read at start, for the parts that are switched on. */
function filesInUse(tree: unknown): ConfigPath[] {
  const files: ConfigPath[] = [];
  const mode = at(tree, 'broker', 'mode') ?? 'embedded';
  if (mode === 'embedded' && isTree(at(tree, 'broker', 'embedded', 'tls'))) {
    for (const key of ['certFile', 'keyFile', 'caFile']) files.push(['broker', 'embedded', 'tls', key]);
  }
  if (mode === 'external') for (const key of ['caFile', 'certFile', 'keyFile']) files.push(['broker', 'external', key]);
  if (at(tree, 'sync', 'enabled') === true) for (const key of ['caFile', 'certFile', 'keyFile']) files.push(['sync', 'mariadb', key]);
  return files;
}

function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'is not a file';
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read by this user' : `cannot be read (${code ?? String(error)})`;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Allowed but worth a line: anonymous clients on a listener the plant network reaches. */
export function deploymentWarnings(tree: unknown): RawIssue[] {
  const embedded = at(tree, 'broker', 'embedded');
  const host = at(embedded, 'host');
  if ((at(tree, 'broker', 'mode') ?? 'embedded') !== 'embedded' || at(embedded, 'allowAnonymous') !== true || typeof host !== 'string' || LOOPBACK.has(host)) return [];
  const role = at(embedded, 'anonymousRole');
  return [{ path: ['broker', 'embedded', 'allowAnonymous'], message: `anonymous clients on ${host} get the ${typeof role === 'string' ? role : 'plc'} role: anyone who reaches the port can connect without a login` }];
}

/** Checks that need the machine: files readable, and a broker someone can connect to. */
export function deploymentIssues(tree: unknown): RawIssue[] {
  const issues: RawIssue[] = [];
  for (const path of filesInUse(tree)) {
    const file = at(tree, ...(path as string[]));
    if (typeof file !== 'string') continue;
    const problem = unreadable(file);
    if (problem) issues.push({ path, message: `file ${file} ${problem}` });
  }
  const embedded = at(tree, 'broker', 'embedded');
  const users = at(embedded, 'users');
  if ((at(tree, 'broker', 'mode') ?? 'embedded') === 'embedded' && at(embedded, 'allowAnonymous') !== true && Array.isArray(users) && users.length === 0) {
    issues.push({
      path: ['broker', 'embedded', 'users'],
      message: 'no users and allowAnonymous is false: no client can connect to the embedded broker (add users with a passwordHash from wwtp-edge hash-password, or set allowAnonymous: true)',
    });
  }
  return issues;
}
