import type { Reading } from '../contract/reading.js';
import type { Logger } from '../lib/logger.js';

/**
 * Tells the integrator, at info level, when each signal delivers its first committed reading after
 * start (a PLC coming alive, a mapping that works), and logs every committed batch at debug level.
 */
export function createCommissioningLog(logger: Logger, configuredSignals: number): { seen(readings: readonly Reading[]): void } {
  const live = new Set<string>();
  return {
    seen(readings) {
      logger.debug({ rows: readings.length, first: readings[0] }, 'readings committed');
      for (const reading of readings) {
        const key = `${reading.stage}/${reading.signal}`;
        if (live.has(key)) continue;
        live.add(key);
        logger.info(
          { stage: reading.stage, signal: reading.signal, value: reading.value, ts: new Date(reading.ts).toISOString(), live: live.size, configured: configuredSignals },
          `first reading of ${key} committed`,
        );
      }
    },
  };
}
