import { existsSync } from 'node:fs';
import { createProgress } from '../lib/progress.js';
import { parseNumberOption, UsageError, type CliIo, type ExitCode } from './io.js';

/**
 * Plant time of the run's start so that, at --speed, the run ends at the wall clock's now: the twin
 * publishes the recent past and never readings from the future, which a daemon on the wall clock
 * (`wwtp-edge run`, ingest.maxFutureSkewSec) would dead-letter.
 */
export function simStartMs(nowMs: number, days: number, speed: number): number {
  const behindMs = days * 86_400_000 * Math.max(0, 1 - 1 / speed);
  return Math.floor((nowMs - behindMs) / 60_000) * 60_000;
}

/** `wwtp-edge sim --broker URL ...`: the plant twin as a separate process. */
export async function simCommand(opts: Record<string, string | boolean | undefined>, io: CliIo): Promise<ExitCode> {
  const text = (key: string): string | undefined => (typeof opts[key] === 'string' ? (opts[key] as string) : undefined);
  const broker = text('broker');
  if (!broker || !/^(mqtts?|wss?|tcp):\/\//.test(broker)) throw new UsageError(`--broker must be an MQTT URL like mqtt://127.0.0.1:1883, got "${broker ?? ''}"`);
  const speed = parseNumberOption('speed', text('speed'), 60);
  const seed = parseNumberOption('seed', text('seed'), 1, (n) => Number.isInteger(n) && n >= 0);
  const days = parseNumberOption('days', text('days'), 14);
  const username = text('username');
  const password = text('password');
  const influent = text('influent') ?? 'dry';
  const scenario = text('scenario');
  const truthFile = text('truth');
  const site = text('site') ?? 'demo';
  const sim = await import('../sim/index.js');
  if (!sim.isNamedInfluent(influent) && influent !== 'generated' && !existsSync(influent)) throw new UsageError(`influent file not found: ${influent}`);
  if (scenario !== undefined && !existsSync(scenario)) throw new UsageError(`scenario file not found: ${scenario}`);
  const lockstep = opts['lockstep'] === true;
  const startMs = simStartMs(Date.now(), days, lockstep ? 1 : speed);
  const clock = lockstep ? undefined : sim.plantClock({ speed, startMs, notAheadOfWall: true, startOnFirstRead: true });
  io.stderr.write(
    `sim: ${days} plant days of site ${site} at ${lockstep ? 'lockstep' : `${speed}x`} into ${redact(broker)}, plant time ${new Date(startMs).toISOString()} to ${new Date(startMs + days * 86_400_000).toISOString()}` +
      `${truthFile ? `; fault ground truth to ${truthFile}` : ''}\n`,
  );
  const progress = createProgress('plant days', io.stderr);
  const started = performance.now();
  let stats;
  try {
    stats = await sim.runSimCommand(
      {
        broker: username ? withCredentials(broker, username, password) : broker,
        influent,
        speed,
        seed,
        days,
        site,
        lockstep,
        epochMs: startMs,
        ...(clock ? { clock } : {}),
        ...(scenario ? { scenario } : {}),
        ...(truthFile ? { truthFile } : {}),
      },
      io.signal,
      (done, total) => progress.update(done, total),
    );
  } finally {
    progress.stop();
  }
  io.stderr.write(
    `sim: ${io.signal.aborted ? 'stopped' : 'done'}: ${(stats.plantMinutes / 1440).toFixed(2)} plant days, ${stats.published} readings published, ` +
      `${stats.setpointsApplied} setpoints applied${lockstep ? `, ${stats.lockstepTimeouts} lockstep timeouts` : ''}, ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return 0;
}

function redact(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  parsed.username = '';
  return parsed.toString().replace(/\/$/, '');
}

function withCredentials(url: string, username: string, password: string | undefined): string {
  const parsed = new URL(url);
  parsed.username = username;
  if (password !== undefined) parsed.password = password;
  return parsed.toString();
}
