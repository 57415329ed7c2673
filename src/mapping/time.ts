import { isRejection, parseTimestamp } from '../ingest/validate.js';
import { timePattern } from './time-pattern.js';
/**
 * Timestamps as historians and PLCs write them: ISO-8601 (or `YYYY-MM-DD hh:mm[:ss]`), epoch ms,
 * epoch s, or the export's own layout as a pattern (`DD.MM.YYYY hh:mm[:ss]`, time-pattern.ts); text
 * without an offset is local time of the map's `timezone` (IANA name, default UTC).
 */
export type TimeFormat = 'iso' | 'epoch-ms' | 'epoch-s' | (string & {});
const NAMED = new Set(['iso', 'epoch-ms', 'epoch-s']);

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Whether `zone` is an IANA time zone this Node knows. */
export function isTimeZone(zone: string): boolean {
  try {
    zoneFormat(zone);
    return true;
  } catch {
    return false;
  }
}

function zoneFormat(zone: string): Intl.DateTimeFormat {
  let f = zoneFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormats.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC at instant `utcMs`, in ms (the wall clock there is utcMs + this). */
export function offsetAt(zone: string, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of zoneFormat(zone).formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts['year']!, parts['month']! - 1, parts['day']!, parts['hour']!, parts['minute']!, parts['second']!);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Wall-clock time in `zone` to epoch ms (a time in a DST gap or overlap takes the earlier offset). */
export function zonedToUtc(wallMs: number, zone: string): number {
  if (zone === 'UTC') return wallMs;
  const first = offsetAt(zone, wallMs);
  const second = offsetAt(zone, wallMs - first);
  return wallMs - (first === second ? first : Math.max(first, second));
}

/**
 * Epoch seconds to ms without the binary float's error: 2147531793.226 * 1000 is 2147531793225.9998,
 * which the store's whole-millisecond event time would cut to the millisecond before. Rounded to the
 * microsecond, so the digits the source wrote are the ones kept.
 */
function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/** Epoch ms of a timestamp, or NaN when it is not one in `format`. */
export function parseTime(raw: unknown, format: TimeFormat, zone = 'UTC'): number {
  if (!NAMED.has(format)) {
    if (typeof raw !== 'string') return NaN;
    const wall = timePattern(format).parse(raw);
    return Number.isFinite(wall) ? zonedToUtc(wall, zone) : NaN;
  }
  if (format !== 'iso') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return format === 'epoch-s' ? secondsToMs(n) : n;
  }
  if (typeof raw !== 'string') return NaN;
  const text = raw.trim();
  if (WITH_OFFSET.test(text)) {
    // strict, as a live reading's ts: 2026-02-31 is no date, not 2026-03-03
    const ms = parseTimestamp(text.replace(' ', 'T'));
    return isRejection(ms) ? NaN : ms;
  }
  const m = LOCAL.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac] = m;
  // whole milliseconds, the digits beyond cut off (as validateReading stores event time)
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)) + ms;
  const check = new Date(wall);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)) return NaN;
  return zonedToUtc(wall, zone);
}

/** A timestamp in `format` (replay writes payloads with it); ISO is UTC with Z, a pattern the wall clock of `zone`. */
export function formatTime(ms: number, format: TimeFormat, zone = 'UTC'): string | number {
  if (!NAMED.has(format)) return timePattern(format).format(zone === 'UTC' ? ms : ms + offsetAt(zone, ms));
  if (format === 'epoch-ms') return ms;
  if (format === 'epoch-s') return ms / 1000;
  return new Date(ms).toISOString();
}
