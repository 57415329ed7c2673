import { loadDaemonConfig } from '../config/load.js';
import type { EdgeConfig } from '../config/schema.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { createSystemdNotifier } from '../lib/systemd.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { waitForAbort, type CliIo, type ExitCode } from './io.js';

/** Starts a runtime, tells systemd, waits for SIGTERM, then drains within the 5 s budget. */
export async function serve(
  config: Readonly<EdgeConfig>,
  io: CliIo,
  version: string,
  logger: Logger = createLogger(config.log.level),
  clock: Clock = systemClock,
): Promise<{ runtime: Runtime; done: Promise<ExitCode> }> {
  const systemd = createSystemdNotifier(io.env, (error) => logger.warn({ err: String(error) }, 'systemd-notify failed'));
  const runtime = createRuntime(config, { logger, clock, version });
  await runtime.start(io.signal);
  systemd.ready();
  const watchdog = systemd.watchdogMs ? systemClock.setInterval(() => systemd.watchdog(), systemd.watchdogMs / 2) : undefined;
  const done = (async (): Promise<ExitCode> => {
    await waitForAbort(io.signal);
    systemd.stopping();
    watchdog?.clear();
    const t0 = Date.now();
    await runtime.stop();
    logger.info({ ms: Date.now() - t0 }, 'stopped');
    return 0;
  })();
  return { runtime, done };
}

export async function runCommand(opts: { configFile?: string | undefined; version: string }, io: CliIo): Promise<ExitCode> {
  const { config, warnings } = loadDaemonConfig({ file: opts.configFile, env: io.env });
  const logger = createLogger(config.log.level);
  for (const w of warnings) logger.warn({ path: w.path, source: w.source }, `config: ${w.message}`);
  const { done } = await serve(config, io, opts.version, logger);
  return done;
}
