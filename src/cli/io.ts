import type { Readable, Writable } from 'node:stream';

/** What a command gets from the entry file instead of touching `process` itself. */
export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** For commands that read a secret (hash-password); absent in tests that give none. */
  readonly stdin?: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** Aborted on SIGTERM/SIGINT. */
  readonly signal: AbortSignal;
}

/** A command's result: the process exit code (0 ok, 1 runtime failure, 2 bad usage or config). */
export type ExitCode = 0 | 1 | 2;

export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function parseNumberOption(name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean = (n) => n > 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be a positive number, got "${raw}"`);
  return n;
}

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
