import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** The root logger: pino JSON lines; each component takes `logger.child({ component })`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { app: 'wwtp-edge' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** A logger that drops everything, for tests and pure code paths. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
