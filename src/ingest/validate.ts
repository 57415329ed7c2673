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

/**
 * ISO-8601 as readings carry it: a calendar date, optionally a time (hh:mm, hh:mm:ss, fractions of a
 * second) and an offset (Z, +hh:mm, +hhmm). Groups: year, month, day, hour, minute, second, fraction,
 * offset.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const bad = (detail: string): Rejection => ({ reason: 'bad_timestamp', detail });

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Event time in epoch ms from a payload's `ts` (epoch ms or ISO-8601), or a rejection. Strict: an
 * impossible date or time (2026-02-31, 24:00, 12:60, offset +25:00) is refused, never rolled over into
 * the next month. A date alone is UTC midnight; a date and time without offset is the host's local time
 * (as ECMAScript reads it). Precision is whole milliseconds (see `toStoredTs`).
 */
export function parseTimestamp(ts: number | string): number | Rejection {
  if (typeof ts === 'number') return Number.isFinite(ts) ? ts : bad('ts is not finite');
  const m = ISO_8601.exec(ts);
  if (!m) return bad('ts is neither epoch ms nor ISO-8601');
  const [, y, mo, d, h, mi, s, fraction, offset] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return bad(`ts ${ts}: month ${mo} does not exist`);
  if (day < 1 || day > daysInMonth(year, month)) return bad(`ts ${ts}: day ${d} does not exist in ${y}-${mo}`);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return bad(`ts ${ts}: time of day does not exist`);
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (h === undefined) return Date.UTC(year, month - 1, day);
  if (offset === undefined) {
    // Local wall time: the host's zone decides, as ECMAScript's Date does for a time without offset.
    const local = new Date(0);
    local.setFullYear(year, month - 1, day);
    local.setHours(hour, minute, second, ms);
    return local.getTime();
  }
  let offsetMinutes = 0;
  if (offset !== 'Z') {
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return bad(`ts ${ts}: offset ${offset} does not exist`);
    offsetMinutes = (offset.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  return utc.getTime() - offsetMinutes * 60_000;
}

/**
 * The one precision of event time from ingest to the central table: whole epoch milliseconds, rounded
 * down (as ISO fractions beyond the millisecond are). Two readings of a signal within the same
 * millisecond share their key (stage, signal, ts): the second is a duplicate (docs/storage.md).
 */
export function toStoredTs(ts: number): number {
  return Math.floor(ts);
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
  const at = toStoredTs(ts);
  if (at > receivedAt + window.maxFutureMs) return { reason: 'bad_timestamp', detail: `ts ${at} is ${Math.round((at - receivedAt) / 1000)} s in the future` };
  if (at < receivedAt - window.maxAgeMs) return { reason: 'bad_timestamp', detail: `ts ${at} is older than the allowed age` };
  return { stage: entry.stage, signal: entry.signal, ts: at, value, quality, receivedAt };
}
