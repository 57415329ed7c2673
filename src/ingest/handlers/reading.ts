import { readingJson } from '../../contract/topics.js';
import type { Quality } from '../../contract/reading.js';
import { scanReading, type DecodedReading } from '../fast-reading.js';
import type { Handler } from '../kit.js';
import type { Route } from '../router.js';
import { isRejection, parseTimestamp, validateReading, type Rejection } from '../validate.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NOT_FINITE_WORDS = /^[+-]?(?:nan|inf|infinity)$/i;

export type { DecodedReading } from '../fast-reading.js';

/**
 * A reading payload: a bare decimal number, or JSON `{"value", "ts"?, "quality"?}` (contract
 * `readingJson`). Never throws.
 */
export function decodeReading(payload: Buffer): DecodedReading | Rejection {
  if (payload.length === 0) return { reason: 'unparseable', detail: 'empty payload' };
  // The usual shapes straight from the bytes; everything else (and every refusal) below.
  const usual = scanReading(payload);
  if (usual) return usual;
  const text = payload.toString('utf8').trim();
  if (DECIMAL.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? { value, ts: undefined, quality: 'good' } : { reason: 'not_finite', detail: `value ${text.slice(0, 40)}` };
  }
  if (NOT_FINITE_WORDS.test(text)) return { reason: 'not_finite', detail: `value ${text}` };
  const first = text.charCodeAt(0);
  // '{', '[', '"', 't'rue, 'f'alse, 'n'ull: JSON of some kind; anything else is not a reading at all.
  if (first !== 123 && first !== 91 && first !== 34 && text !== 'true' && text !== 'false' && text !== 'null') {
    return { reason: 'unparseable', detail: 'neither a decimal number nor JSON' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { reason: 'unparseable', detail: 'invalid JSON' };
  }
  // JSON cannot say NaN, but 1e999 parses to Infinity: that is a non-finite value, not a wrong type.
  if (typeof json === 'object' && json !== null && typeof (json as { value?: unknown }).value === 'number' && !Number.isFinite((json as { value: number }).value)) {
    return { reason: 'not_finite', detail: 'value is not finite' };
  }
  const plain = plainReading(json);
  if (plain) return plain;
  const parsed = readingJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { reason: 'wrong_type', detail: issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'not a reading object' };
  }
  return { value: parsed.data.value, ts: parsed.data.ts, quality: parsed.data.quality ?? 'good' };
}

const QUALITIES: ReadonlySet<unknown> = new Set<Quality>(['good', 'uncertain', 'bad']);

/**
 * The common well-formed reading, checked by hand: what `readingJson` accepts, nothing more (finite
 * `value`, `ts` a finite number or a string, a known `quality`, no other key). Everything else,
 * including every message that is refused, goes through the schema for its exact error. Saves the
 * schema's allocations on the hot path.
 */
function plainReading(json: unknown): DecodedReading | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as { value?: unknown; ts?: unknown; quality?: unknown };
  let keys = 0;
  for (const key in o) {
    if (key !== 'value' && key !== 'ts' && key !== 'quality') return undefined;
    keys += 1;
  }
  const { value, ts, quality } = o;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (ts !== undefined && !(typeof ts === 'string' || (typeof ts === 'number' && Number.isFinite(ts)))) return undefined;
  if (quality !== undefined && !QUALITIES.has(quality)) return undefined;
  if (keys !== 1 + (ts === undefined ? 0 : 1) + (quality === undefined ? 0 : 1)) return undefined;
  return { value, ts, quality: (quality as Quality | undefined) ?? 'good' };
}

/** `wwtp/{site}/{stage}/{signal}` of a configured signal. */
export const handleReading: Handler<Extract<Route, { kind: 'reading' }>> = (route, topic, payload, ack, kit) => {
  const decoded = decodeReading(payload);
  if (isRejection(decoded)) {
    kit.deadLetter(topic, payload, decoded.reason, decoded.detail);
    return false;
  }
  const receivedAt = kit.now();
  let ts = receivedAt;
  if (decoded.ts !== undefined) {
    const parsed = parseTimestamp(decoded.ts);
    if (isRejection(parsed)) {
      kit.deadLetter(topic, payload, parsed.reason, parsed.detail);
      return false;
    }
    ts = parsed;
  }
  const reading = validateReading(route.entry, decoded.value, ts, decoded.quality, receivedAt, kit.window);
  if (isRejection(reading)) {
    kit.deadLetter(topic, payload, reading.reason, reading.detail);
    return false;
  }
  kit.commit(reading, ack);
  return true;
};
