import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot, spawnDaemon, tempDir, type DaemonProcess, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';

export { tempDir };
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Suite scale: 1 in `npm test`, more in `bench/reliability/run.ts` (BLACKBOX_SCALE). */
export const SCALE = Math.max(1, Number(process.env['BLACKBOX_SCALE'] ?? '1') || 1);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
}

/** Hash of what the build reads, so that parallel test files share one build of the same sources. */
function buildKey(): string {
  // The checkout's path too: the build links that checkout's config, models and node_modules.
  const hash = createHash('sha256').update(repoRoot);
  for (const file of [...sourceFiles(join(repoRoot, 'src')).sort(), join(repoRoot, 'tsconfig.json'), join(repoRoot, 'tsconfig.build.json'), join(repoRoot, 'package.json')]) {
    hash.update(relative(repoRoot, file)).update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

let built: string | undefined;

/**
 * The daemon as an installation runs it: `tsc -p tsconfig.build.json` into a temporary copy of the
 * package (compiled dist/, bin, package.json, config, models and node_modules linked), never into the
 * checkout (other test files spawn bin/wwtp-edge.js, which would pick up a half-written dist/). One
 * build per source hash, shared by the test files of a run.
 */
export function builtDaemon(): string {
  if (built) return built;
  const key = buildKey();
  const root = join(tmpdir(), `wwtp-edge-blackbox-${key}`);
  const lock = `${root}.lock`;
  const deadline = Date.now() + 300_000;
  // One build at a time: the test files of a run start together, and parallel compilers on a small
  // machine would each take as long as all of them.
  while (!existsSync(join(root, '.complete'))) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`the black-box build did not finish (lock ${lock})`);
      if (Date.now() - statMtime(lock) > 120_000) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    try {
      if (!existsSync(join(root, '.complete'))) build(root, key);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  built = root;
  return root;
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

function build(root: string, key: string): void {
  const staging = `${root}.${process.pid}.${Date.now()}`;
  mkdirSync(join(staging, 'bin'), { recursive: true });
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(staging, 'dist')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  copyFileSync(join(repoRoot, 'bin', 'wwtp-edge.js'), join(staging, 'bin', 'wwtp-edge.js'));
  copyFileSync(join(repoRoot, 'package.json'), join(staging, 'package.json'));
  for (const linked of ['config', 'models', 'node_modules']) symlinkSync(join(repoRoot, linked), join(staging, linked));
  writeFileSync(join(staging, '.complete'), key);
  rmSync(root, { recursive: true, force: true });
  renameSync(staging, root);
  pruneOldBuilds(root);
}

/** Builds of other sources left in the temp dir for more than a day. */
function pruneOldBuilds(keep: string): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith('wwtp-edge-blackbox-') || path === keep || name.endsWith('.lock')) continue;
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}

export interface Edge extends DaemonProcess {
  kill9(): Promise<void>;
  url(path: string): string;
}

/** Env of a daemon on free ports with everything under `dir`; models off unless asked. */
export function edgeEnv(dir: string, site: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WWTP_EDGE_SITE: site,
    WWTP_EDGE_STORAGE__PATH: join(dir, 'edge.sqlite'),
    ...LOCAL_DAEMON_ENV,
    WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
    WWTP_EDGE_LOG__LEVEL: 'info',
    ...extra,
  };
}

/** Starts the built daemon (`wwtp-edge run`) and resolves once it logged its bound ports. */
export async function startEdge(env: Record<string, string>, args: string[] = ['run'], timeoutMs = 45_000): Promise<Edge> {
  const root = builtDaemon();
  const daemon = await spawnDaemon(join(root, 'bin', 'wwtp-edge.js'), root, env, args, timeoutMs);
  const { child } = daemon;
  return {
    ...daemon,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await daemon.exited();
    },
    url: (path) => `http://127.0.0.1:${daemon.httpPort}${path}`,
  };
}

/** Prometheus text -> `name{labels}` -> value. */
export async function scrape(edge: Edge): Promise<Map<string, number>> {
  const text = await (await fetch(edge.url('/metrics'))).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Sum of a metric over the series whose labels contain every `label="value"` given. */
export function metricSum(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A site id no other test uses (topics on the shared Mosquitto, MariaDB rows). */
export function uniqueSite(tag: string): string {
  return `bb${tag}${process.pid}${Date.now() % 1_000_000}`;
}

/** Measured figures for docs/reliability.md, appended when bench/reliability.ts runs the suite. */
export function record(part: string, figures: Record<string, number | string>): void {
  const out = process.env['BLACKBOX_RELIABILITY_OUT'];
  const line = JSON.stringify({ part, ...figures });
  process.stdout.write(`reliability ${line}\n`);
  if (out) writeFileSync(out, `${line}\n`, { flag: 'a' });
}

export const PLC = { username: 'bb-plc', password: 'plc-secret-1' } as const;
export const HMI = { username: 'bb-hmi', password: 'hmi-secret-1' } as const;

/** `broker.embedded.users` YAML for one PLC and one HMI account, hashed by `wwtp-edge hash-password`. */
export function usersYaml(): string {
  const hash = (secret: string): string =>
    execFileSync(process.execPath, [join(builtDaemon(), 'bin', 'wwtp-edge.js'), 'hash-password', secret], { encoding: 'utf8' }).trim();
  return [
    '    users:',
    `      - { username: ${PLC.username}, passwordHash: '${hash(PLC.password)}', role: plc }`,
    `      - { username: ${HMI.username}, passwordHash: '${hash(HMI.password)}', role: hmi }`,
  ].join('\n');
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/** A Mosquitto of the test's own, set as README tells integrators (no queue limit for persistent sessions). */
export async function startMosquitto(dir: string): Promise<{ port: number; url: string; stop(): void }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'max_inflight_messages 0', ''].join('\n'));
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i += 1) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return { port, url: `mqtt://127.0.0.1:${port}`, stop: () => broker.kill('SIGTERM') };
    await sleep(50);
  }
  broker.kill('SIGKILL');
  throw new Error('mosquitto did not start');
}
