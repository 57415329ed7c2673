import type { Quality } from '../contract/reading.js';

/** What a reading payload says, before validation (shared with the full decoder in handlers/reading.ts). */
export interface DecodedReading {
  readonly value: number;
  readonly ts: number | string | undefined;
  readonly quality: Quality;
}

const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const OPEN = 123;
const CLOSE = 125;

/** Up to 15 significant digits an integer mantissa is exact, and so is every power of ten up to 10^22. */
const MAX_DIGITS = 15;
const POW10 = Array.from({ length: MAX_DIGITS + 1 }, (_, k) => 10 ** k);

const bytes = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'latin1'));
const VALUE_KEY = bytes('"value":');
const TS_KEY = bytes('"ts":');
const QUALITY_KEY = bytes('"quality":');
const QUALITIES: readonly (readonly [Uint8Array, Quality])[] = [
  [bytes('"good"'), 'good'],
  [bytes('"uncertain"'), 'uncertain'],
  [bytes('"bad"'), 'bad'],
];

function startsWith(b: Buffer, at: number, word: Uint8Array): boolean {
  if (at + word.length > b.length) return false;
  for (let k = 0; k < word.length; k += 1) if (b[at + k] !== word[k]) return false;
  return true;
}

/** End of the number scanned last by `scanNumber`. */
let numberEnd = 0;

/**
 * A JSON number without exponent and with at most 15 digits, from byte `at`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`.
 * The integer mantissa and the power of ten are exact doubles, so one division rounds correctly, to
 * the same double `Number()` and `JSON.parse` give. NaN for anything else (the caller falls back).
 */
function scanNumber(b: Buffer, at: number): number {
  let i = at;
  const negative = b[i] === MINUS;
  if (negative) i += 1;
  const first = b[i];
  if (first === undefined || first < ZERO || first > NINE) return NaN;
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  if (first === ZERO) {
    i += 1;
  } else {
    for (let c = b[i]; c !== undefined && c >= ZERO && c <= NINE; c = b[i]) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits += 1;
      i += 1;
    }
  }
  if (b[i] === DOT) {
    i += 1;
    for (let c = b[i]; c !== undefined && c >= ZERO && c <= NINE; c = b[i]) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits += 1;
      fraction += 1;
      i += 1;
    }
    if (fraction === 0) return NaN;
  }
  if (digits > MAX_DIGITS) return NaN;
  // An exponent, a second leading zero or any other character after the number: not this shape.
  const next = b[i];
  if (next !== undefined && next !== COMMA && next !== CLOSE) return NaN;
  numberEnd = i;
  const magnitude = fraction === 0 ? mantissa : mantissa / (POW10[fraction] as number);
  return negative ? -magnitude : magnitude;
}

/**
 * The shapes PLCs send nearly always, read straight from the bytes: a bare number, or exactly
 * `{"value":N}` with `"ts":N` and `"quality":"good|uncertain|bad"` in any order, no whitespace, each
 * key once. Returns undefined for everything else, which the full decoder then handles with its
 * exact result; for these shapes the result is the one the full decoder gives.
 */
export function scanReading(b: Buffer): DecodedReading | undefined {
  if (b[0] !== OPEN) {
    const value = scanNumber(b, 0);
    return numberEnd === b.length && !Number.isNaN(value) ? { value, ts: undefined, quality: 'good' } : undefined;
  }
  let value: number | undefined;
  let ts: number | undefined;
  let quality: Quality | undefined;
  let i = 1;
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    if (value === undefined && startsWith(b, i, VALUE_KEY)) {
      value = scanNumber(b, i + VALUE_KEY.length);
      if (Number.isNaN(value)) return undefined;
      i = numberEnd;
    } else if (ts === undefined && startsWith(b, i, TS_KEY)) {
      ts = scanNumber(b, i + TS_KEY.length);
      if (Number.isNaN(ts)) return undefined;
      i = numberEnd;
    } else if (quality === undefined && startsWith(b, i, QUALITY_KEY)) {
      i += QUALITY_KEY.length;
      const known = QUALITIES.find(([word]) => startsWith(b, i, word));
      if (!known) return undefined;
      quality = known[1];
      i += known[0].length;
    } else {
      return undefined;
    }
    if (b[i] === CLOSE) break;
    if (b[i] !== COMMA) return undefined;
    i += 1;
  }
  if (i + 1 !== b.length || value === undefined) return undefined;
  return { value, ts, quality: quality ?? 'good' };
}
