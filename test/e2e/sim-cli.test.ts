import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { binPath, tempDir } from '../helpers/daemon.js';

/** `wwtp-edge sim` as its own process drives the daemon over the real broker (PRODUCT 4.1). */
describe('wwtp-edge sim', () => {
  it('publishes every configured signal into the daemon, which stores them and answers with setpoints', async () => {
    const dir = tempDir('wwtp-sim-cli-');
    const config = loadConfig({
      override: {
        site: 'simcli',
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
        http: { enabled: false },
        storage: { path: join(dir, 'edge.sqlite') },
        models: { enabled: false },
        ingest: { maxFutureSkewSec: 3650 * 86_400 },
      },
    });
    const runtime = createRuntime(config, { logger: silentLogger() });
    await runtime.start(new AbortController().signal);
    const url = `mqtt://127.0.0.1:${runtime.ports().mqtt}`;
    const child = spawn(process.execPath, [binPath, 'sim', '--broker', url, '--site', 'simcli', '--days', '0.1', '--speed', '200000', '--seed', '3'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 500));
    await runtime.idle();
    await runtime.stop();
    expect(code, stderr).toBe(0);
    const db = new Database(config.storage.path, { readonly: true });
    const signals = db.prepare('SELECT DISTINCT stage || \'/\' || signal FROM readings').pluck().all() as string[];
    const setpoints = db.prepare('SELECT COUNT(*) FROM setpoints').pluck().get() as number;
    const deadLetters = db.prepare('SELECT reason, COUNT(*) AS n FROM deadletters GROUP BY reason').all();
    db.close();
    expect(new Set(signals)).toEqual(new Set(config.signals.map((s) => `${s.stage}/${s.id}`)));
    expect(setpoints).toBeGreaterThan(0);
    expect(deadLetters).toEqual([]);
  }, 180_000);
});
