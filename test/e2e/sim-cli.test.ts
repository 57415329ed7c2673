import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import type { EdgeConfig } from '../../src/config/schema.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { binPath, tempDir } from '../helpers/daemon.js';

interface SimDaemon {
  readonly dir: string;
  readonly config: Readonly<EdgeConfig>;
  readonly runtime: Runtime;
}

/** A daemon of `site` in this process on an embedded broker (default ingest config, wall clock). */
async function daemonOf(site: string): Promise<SimDaemon> {
  const dir = tempDir(`wwtp-${site}-`);
  const config = loadConfig({
    override: {
      site,
      broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
      http: { enabled: false },
      storage: { path: join(dir, 'edge.sqlite') },
      models: { enabled: false },
    },
  });
  const runtime = createRuntime(config, { logger: silentLogger() });
  await runtime.start(new AbortController().signal);
  return { dir, config, runtime };
}

/** Runs `wwtp-edge sim --broker <the daemon's> --site <site> ...args` to its end, then stops the daemon once idle. */
async function simInto(daemon: SimDaemon, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { dir, config, runtime } = daemon;
  const child = spawn(process.execPath, [binPath, 'sim', '--broker', `mqtt://127.0.0.1:${runtime.ports().mqtt}`, '--site', config.site, ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise((r) => setTimeout(r, 500));
  await runtime.idle();
  await runtime.stop();
  return { code, stderr };
}

/** `wwtp-edge sim` as its own process drives the daemon over the real broker (PRODUCT 4.1). */
describe('wwtp-edge sim', () => {
  it('publishes every configured signal into a daemon on the wall clock (default ingest config), which stores them and answers with setpoints; nothing is dead-lettered for time', async () => {
    const daemon = await daemonOf('simcli');
    const { dir, config } = daemon;
    const { code, stderr } = await simInto(daemon, ['--days', '0.1', '--speed', '200000', '--seed', '3']);
    expect(code, stderr).toBe(0);
    // Not a TTY: a start line and a summary; no ground truth file unless asked (--truth).
    expect(stderr).toMatch(/^sim: 0\.1 plant days of site simcli at 200000x into mqtt:\/\/127\.0\.0\.1:\d+, plant time /m);
    expect(stderr).toMatch(/^sim: done: 0\.10 plant days, \d+ readings published, \d+ setpoints applied, /m);
    expect(existsSync(join(dir, 'sim-ground-truth.jsonl'))).toBe(false);
    const db = new Database(config.storage.path, { readonly: true });
    const signals = db.prepare('SELECT DISTINCT stage || \'/\' || signal FROM readings').pluck().all() as string[];
    const setpoints = db.prepare('SELECT COUNT(*) FROM setpoints').pluck().get() as number;
    const deadLetters = db.prepare('SELECT reason, COUNT(*) AS n FROM deadletters GROUP BY reason').all();
    db.close();
    expect(new Set(signals)).toEqual(new Set(config.signals.map((s) => `${s.stage}/${s.id}`)));
    expect(setpoints).toBeGreaterThan(0);
    expect(deadLetters).toEqual([]);
  }, 180_000);

  it('at its default speed (60x) publishes only the recent past: a daemon on the wall clock dead-letters nothing for time', async () => {
    const daemon = await daemonOf('simcli60');
    const started = Date.now();
    const { code, stderr } = await simInto(daemon, ['--days', '0.01']);
    expect(code, stderr).toBe(0);
    const db = new Database(daemon.config.storage.path, { readonly: true });
    const readings = db.prepare('SELECT COUNT(*) AS n, MAX(ts) AS last FROM readings').get() as { n: number; last: number };
    const deadLetters = db.prepare('SELECT reason, COUNT(*) AS n FROM deadletters GROUP BY reason').all();
    db.close();
    expect(readings.n).toBeGreaterThan(100);
    expect(readings.last).toBeLessThanOrEqual(Date.now());
    expect(readings.last).toBeGreaterThan(started - 20 * 60_000);
    expect(deadLetters).toEqual([]);
  }, 180_000);
});
