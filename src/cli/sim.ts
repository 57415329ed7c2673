import { createProgress } from '../lib/progress.js';
import { parseNumberOption, UsageError, type CliIo, type ExitCode } from './io.js';

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
  const { runSimCommand } = await import('../sim/index.js');
  const progress = createProgress('plant days', io.stderr);
  try {
    await runSimCommand(
      {
        broker: username ? withCredentials(broker, username, password) : broker,
        influent: text('influent') ?? 'dry',
        speed,
        seed,
        days,
        site: text('site') ?? 'demo',
        lockstep: opts['lockstep'] === true,
        ...(text('scenario') ? { scenario: text('scenario') } : {}),
      },
      io.signal,
      (done, total) => progress.update(done, total),
    );
  } finally {
    progress.stop();
  }
  return 0;
}

function withCredentials(url: string, username: string, password: string | undefined): string {
  const parsed = new URL(url);
  parsed.username = username;
  if (password !== undefined) parsed.password = password;
  return parsed.toString();
}
