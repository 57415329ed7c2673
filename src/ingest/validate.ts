import type { StageId } from '../contract/plant.js';
import type { DeadLetterReason, Quality, Reading } from '../contract/reading.js';

/** A configured signal with what validation needs; built once at start, looked up per message. */
export interface SignalEntry {
  readonly stage: StageId;
  readonly signal: string;
  readonly min: number;
  readonly max: number;
}

export interface Rejection {
  readonly reason: DeadLetterReason;
  readonly detail: string;
}

/** How far event time may lie from wall time. */
export interface TimeWindow {
  readonly maxFutureMs: number;
  readonly maxAgeMs: number;
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && 'reason' in value;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Event time in epoch ms from a payload's `ts` (epoch ms or ISO-8601), or a rejection. */
export function parseTimestamp(ts: number | string): number | Rejection {
  if (typeof ts === 'number') return Number.isFinite(ts) ? ts : { reason: 'bad_timestamp', detail: 'ts is not finite' };
  if (!ISO_8601.test(ts)) return { reason: 'bad_timestamp', detail: 'ts is neither epoch ms nor ISO-8601' };
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : { reason: 'bad_timestamp', detail: 'ts is not a valid date' };
}

/** The checks every reading passes, whatever its encoding: finite, in range, event time sane. */
export function validateReading(
  entry: SignalEntry,
  value: number,
  ts: number,
  quality: Quality,
  receivedAt: number,
  window: TimeWindow,
): Reading | Rejection {
  if (!Number.isFinite(value)) return { reason: 'not_finite', detail: `value ${String(value)}` };
  if (value < entry.min || value > entry.max) return { reason: 'out_of_range', detail: `${value} outside [${entry.min}, ${entry.max}]` };
  if (ts > receivedAt + window.maxFutureMs) return { reason: 'bad_timestamp', detail: `ts ${ts} is ${Math.round((ts - receivedAt) / 1000)} s in the future` };
  if (ts < receivedAt - window.maxAgeMs) return { reason: 'bad_timestamp', detail: `ts ${ts} is older than the allowed age` };
  return { stage: entry.stage, signal: entry.signal, ts, value, quality, receivedAt };
}
