import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingJson } from '../../src/contract/topics.js';
import { decodeReading } from '../../src/ingest/index.js';

/** What the contract schema alone says about a JSON reading. */
function bySchema(json: unknown): 'refused' | { value: number; ts: number | string | undefined; quality: string } {
  const parsed = readingJson.safeParse(json);
  if (!parsed.success) return 'refused';
  return { value: parsed.data.value, ts: parsed.data.ts, quality: parsed.data.quality ?? 'good' };
}

const field = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 12 }), fc.constantFrom('good', 'bad', 'uncertain', 'meh', null, true), fc.jsonValue());
const readingLike = fc.record(
  { value: field, ts: field, quality: field, extra: field },
  { requiredKeys: [] },
);

describe('JSON reading decode', () => {
  it('accepts and refuses exactly what the contract schema does', () => {
    fc.assert(
      fc.property(fc.oneof(readingLike, fc.jsonValue()), (json) => {
        const text = JSON.stringify(json);
        if (text === undefined) return;
        const decoded = decodeReading(Buffer.from(text));
        const parsed: unknown = JSON.parse(text);
        const expected = bySchema(parsed);
        if (expected === 'refused') {
          // Bare numbers are readings by the decimal rule; everything else the schema refuses is a dead letter.
          if (typeof parsed !== 'number') expect(decoded).toHaveProperty('reason');
        } else {
          expect(decoded).toEqual(expected);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes the usual shapes', () => {
    expect(decodeReading(Buffer.from('{"value":2.5,"ts":1700000000000}'))).toEqual({ value: 2.5, ts: 1_700_000_000_000, quality: 'good' });
    expect(decodeReading(Buffer.from('{"value":-1,"quality":"uncertain","ts":"2024-01-01T00:00:00Z"}'))).toEqual({ value: -1, ts: '2024-01-01T00:00:00Z', quality: 'uncertain' });
    expect(decodeReading(Buffer.from('{"value":1,"ts":null}'))).toMatchObject({ reason: 'wrong_type' });
    expect(decodeReading(Buffer.from('{"value":1,"unit":"mg/L"}'))).toMatchObject({ reason: 'wrong_type' });
    expect(decodeReading(Buffer.from('{"value":1,"quality":"meh"}'))).toMatchObject({ reason: 'wrong_type' });
    expect(decodeReading(Buffer.from('{"value":1,"ts":1e999}'))).toMatchObject({ reason: 'wrong_type' });
  });
});
