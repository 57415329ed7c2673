import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Reading } from '../contract/reading.js';
import type { DropReason } from './windower.js';

/**
 * Readings the windows left out (late past the allowed lateness, or dropped), summarized at info once
 * per minute with their counts per signal, never a line per reading.
 */
export interface LeftOutLog {
  late(reading: Reading, behindWatermarkMs: number): void;
  dropped(reading: Reading, reason: DropReason): void;
  /** Held out of the windows: stamped too far ahead of the plant's event time, not corroborated. */
  ahead(reading: Reading, aheadMs: number): void;
  start(): void;
  /** Logs what is still counted and stops the timer. */
  stop(): void;
}

const MAX_KEYS = 20;

export function createLeftOutLog(logger: Logger, clock: Clock, periodMs = 60_000): LeftOutLog {
  let late = new Map<string, number>();
  let dropped = new Map<string, number>();
  let lateTotal = 0;
  let droppedTotal = 0;
  let maxBehindMs = 0;
  let ahead = new Map<string, number>();
  let aheadTotal = 0;
  let maxAheadMs = 0;
  let timer: { clear(): void } | undefined;
  const bump = (map: Map<string, number>, key: string): void => {
    if (map.has(key) || map.size < MAX_KEYS) map.set(key, (map.get(key) ?? 0) + 1);
  };
  const flush = (): void => {
    if (lateTotal > 0) {
      logger.info({ readings: lateTotal, maxBehindSec: Math.round(maxBehindMs / 1000), bySignal: Object.fromEntries(late) }, 'late readings left out of the windows (stored all the same) in the last minute');
    }
    if (droppedTotal > 0) {
      logger.info({ readings: droppedTotal, byReason: Object.fromEntries(dropped) }, 'readings dropped from the windows (stored all the same) in the last minute');
    }
    if (aheadTotal > 0) {
      logger.info(
        { readings: aheadTotal, maxAheadSec: Math.round(maxAheadMs / 1000), bySignal: Object.fromEntries(ahead) },
        "readings stamped ahead of the plant's event time held out of the windows (stored all the same) in the last minute",
      );
    }
    ahead = new Map();
    aheadTotal = 0;
    maxAheadMs = 0;
    late = new Map();
    dropped = new Map();
    lateTotal = 0;
    droppedTotal = 0;
    maxBehindMs = 0;
  };
  return {
    late(reading, behindMs) {
      lateTotal += 1;
      maxBehindMs = Math.max(maxBehindMs, behindMs);
      bump(late, `${reading.stage}/${reading.signal}`);
    },
    dropped(reading, reason) {
      droppedTotal += 1;
      bump(dropped, `${reason} ${reading.stage}/${reading.signal}`);
    },
    ahead(reading, aheadMs) {
      aheadTotal += 1;
      maxAheadMs = Math.max(maxAheadMs, Number.isFinite(aheadMs) ? aheadMs : 0);
      bump(ahead, `${reading.stage}/${reading.signal}`);
    },
    start() {
      timer ??= clock.setInterval(flush, periodMs);
    },
    stop() {
      timer?.clear();
      timer = undefined;
      flush();
    },
  };
}
