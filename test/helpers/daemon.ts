import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const binPath = join(repoRoot, 'bin', 'wwtp-edge.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A daemon on free ports that takes anonymous clients, with no WebSocket listener and no models. */
export const LOCAL_DAEMON_ENV: Readonly<Record<string, string>> = {
  WWTP_EDGE_BROKER__EMBEDDED__PORT: '0',
  WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null',
  WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true',
  WWTP_EDGE_HTTP__PORT: '0',
  WWTP_EDGE_MODELS__ENABLED: 'false',
};

export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly mqttPort: number;
  readonly httpPort: number;
  /** Every stdout and stderr line so far. */
  readonly logs: string[];
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `wwtp-edge run` as a child process with env overrides and resolves once it logged
 * "wwtp-edge running" with its bound ports.
 */
export function startDaemon(env: Record<string, string>, args: string[] = ['run'], timeoutMs = 30_000): Promise<DaemonProcess> {
  return spawnDaemon(binPath, repoRoot, { WWTP_EDGE_LOG__LEVEL: 'info', ...env }, args, timeoutMs);
}

/**
 * Starts the daemon of `bin` (run in `cwd`, the environment plus `env`) and resolves once it logged
 * "wwtp-edge running" with its bound ports; rejects, with its last log lines, if it exits before or
 * does not start within `timeoutMs` (then it is killed). `logs` keeps every stdout and stderr line.
 */
export function spawnDaemon(bin: string, cwd: string, env: Record<string, string>, args: string[], timeoutMs: number): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon did not start in ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`));
    }, timeoutMs);
    let started = false;
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!started) reject(new Error(`daemon exited early (${code ?? signal}):\n${logs.slice(-20).join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      if (started || !line.includes('"wwtp-edge running"')) return;
      started = true;
      const entry = JSON.parse(line) as { mqtt: number; http: number };
      clearTimeout(timer);
      resolve({ child, mqttPort: entry.mqtt, httpPort: entry.http, logs, exited: () => exit });
    });
  });
}

/** A cleanup that kills the daemon (SIGKILL) if it still runs and waits for its exit. */
export function killAtCleanup(daemon: DaemonProcess): () => Promise<void> {
  return async () => {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited();
    }
  };
}
