import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { systemClock } from '../../src/lib/clock.js';
import { createStore } from '../../src/store/index.js';
import { binPath, repoRoot, tempDir } from '../helpers/daemon.js';

const exec = promisify(execFile);

async function cli(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { cwd: opts.cwd ?? repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WWTP_EDGE_LOG__LEVEL: 'warn' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.input ?? '');
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}

describe('CLI commands a newcomer runs', () => {
  it('hash-password reads the secret from stdin when no argument is given (nothing in the shell history)', async () => {
    const piped = await cli(['hash-password'], { input: 'a-long-secret\n' });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^scrypt\$[0-9a-f]+\$[0-9a-f]+\n$/);
    const empty = await cli(['hash-password']);
    expect(empty.code).toBe(2);
    expect(empty.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('models list from another directory finds the package models, and says where it looked when there are none', async () => {
    const elsewhere = tempDir('wwtp-cli-models-');
    const found = await cli(['models', 'list'], { cwd: elsewhere });
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain(`models in ${join(repoRoot, 'models')}`);
    expect(found.stdout).toMatch(/anomaly-aerobic@/);
    const none = await cli(['models', 'list', '--dir', elsewhere], { cwd: elsewhere });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`no model bundles in ${elsewhere}`);
  }, 60_000);

  it('sync now refuses when sync is disabled; sync status tells pending rows never synced and whether the central server answers', async () => {
    const dir = tempDir('wwtp-cli-sync-');
    const path = join(dir, 'edge.sqlite');
    const store = createStore(loadConfig({ override: { storage: { path } } }).storage, { site: 'clisync', logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: true });
    await store.start(new AbortController().signal);
    const t = Date.now();
    await store.appendReadings(Array.from({ length: 25 }, (_, i) => ({ stage: 'aerobic' as const, signal: 'do', ts: t + i * 1000, value: 2, quality: 'good' as const, receivedAt: t })));
    await store.stop();
    const disabled = join(dir, 'disabled.yaml');
    writeFileSync(disabled, `site: clisync\nstorage: { path: ${path} }\nsync: { enabled: false, mariadb: { url: 'mariadb://root@127.0.0.1:1/test', connectTimeoutMs: 1000 } }\n`);
    const now = await cli(['sync', 'now', '--config', disabled]);
    expect(now.code).toBe(2);
    expect(now.stderr).toMatch(/sync is not enabled/);
    const status = await cli(['sync', 'status', '--config', disabled]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/unreachable/);
    expect(status.stdout).toMatch(/sync.enabled is false/);
    expect(status.stdout).toMatch(/^readings\s+pending\s+25\s+never caught up/m);
    expect(status.stdout).not.toMatch(/lag 0 s/);
  }, 60_000);

  it('every subcommand --help page has a description', async () => {
    for (const cmd of [['run'], ['demo'], ['sim'], ['train'], ['models', 'list'], ['models', 'activate'], ['anomaly', 'fit'], ['anomaly', 'score'], ['hash-password'], ['sync', 'status'], ['sync', 'now']]) {
      const { stdout } = await exec(process.execPath, [binPath, ...cmd, '--help']);
      const lines = stdout.split('\n');
      expect(lines[0], cmd.join(' ')).toMatch(/^Usage: /);
      expect(lines[2]?.trim().length ?? 0, `${cmd.join(' ')}: ${stdout}`).toBeGreaterThan(10);
    }
  }, 120_000);
});
