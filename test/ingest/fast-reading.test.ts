import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingJson } from '../../src/contract/topics.js';
import { scanReading } from '../../src/ingest/fast-reading.js';

/** What the payload means by JSON.parse and the contract schema, or by Number() for a bare decimal. */
function reference(text: string): { value: number; ts: unknown; quality: string } | 'other' {
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return { value: Number(text), ts: undefined, quality: 'good' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'other';
  }
  const parsed = readingJson.safeParse(json);
  if (!parsed.success || !Number.isFinite(parsed.data.value)) return 'other';
  return { value: parsed.data.value, ts: parsed.data.ts, quality: parsed.data.quality ?? 'good' };
}

const digits = (min: number, max: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
/** Numbers around the fast path's edges: signs, leading zeros, 14-17 digits, fractions, exponents. */
const numberText = fc.oneof(
  fc.tuple(fc.constantFrom('', '-', '+'), digits(1, 17), fc.option(digits(0, 17)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), digits(0, 3)))).map(
    ([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : exp.join('')}`,
  ),
  fc.double({ noNaN: true }).map(String),
  fc.integer().map(String),
  fc.constantFrom('-0', '0.0', '-0.0', '00', '.5', '5.', '1e2', '0.1', '1700000000000', '123456789012345', '1234567890123456', '"1"', 'null', 'true'),
);
const member = fc.oneof(
  numberText.map((n) => `"value":${n}`),
  numberText.map((n) => `"ts":${n}`),
  fc.constantFrom('"quality":"good"', '"quality":"bad"', '"quality":"uncertain"', '"quality":"meh"', '"ts":"2024-01-01T00:00:00Z"', '"unit":"mg/L"', '"value" :1', '"value":1 '),
);
const payload = fc.oneof(
  numberText,
  fc.tuple(fc.array(member, { minLength: 0, maxLength: 4 }), fc.constantFrom('', ' ', ',', '\n')).map(([members, tail]) => `{${members.join(',')}}${tail}`),
);

describe('reading fast path', () => {
  it('gives exactly what JSON.parse and the schema give, or leaves the payload to the full decoder', () => {
    let taken = 0;
    fc.assert(
      fc.property(payload, (text) => {
        const fast = scanReading(Buffer.from(text));
        if (fast === undefined) return;
        taken += 1;
        const expected = reference(text);
        expect(expected).not.toBe('other');
        if (expected === 'other') return;
        // Object.is: -0 stays -0, as JSON.parse keeps it.
        expect(Object.is(fast.value, expected.value)).toBe(true);
        expect(Object.is(fast.ts, expected.ts)).toBe(true);
        expect(fast.quality).toBe(expected.quality);
      }),
      { numRuns: 20_000 },
    );
    expect(taken).toBeGreaterThan(1_000);
  });

  it('takes the shapes PLCs send and leaves the rest', () => {
    expect(scanReading(Buffer.from('{"value":2.5,"ts":1700000000000}'))).toEqual({ value: 2.5, ts: 1_700_000_000_000, quality: 'good' });
    expect(scanReading(Buffer.from('{"ts":1700000000000,"quality":"bad","value":-0.25}'))).toEqual({ value: -0.25, ts: 1_700_000_000_000, quality: 'bad' });
    expect(scanReading(Buffer.from('7.25'))).toEqual({ value: 7.25, ts: undefined, quality: 'good' });
    for (const other of ['{"value":1,"value":2}', '{"value":1e3}', '{"ts":1}', '{ "value":1}', '{"value":1,"ts":"2024-01-01"}', '{"value":01}', '{"value":1}x', '', '{}', '1.', '+1']) {
      expect(scanReading(Buffer.from(other)), other).toBeUndefined();
    }
  });
});
