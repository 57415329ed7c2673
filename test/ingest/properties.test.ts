import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_REASONS } from '../../src/contract/reading.js';
import { decodeReading } from '../../src/ingest/index.js';
import { ingestHarness, manualClock, testConfig } from './helpers.js';

const clock = manualClock();
const now = clock.now();
const config = testConfig();
const site = config.site;
const signals = config.signals;

const anyPayload = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'grapheme', maxLength: 64 }).map((s) => Buffer.from(s)),
  fc.jsonValue().map((j) => Buffer.from(JSON.stringify(j) ?? 'null')),
  fc.record({ value: fc.oneof(fc.double(), fc.string(), fc.jsonValue()), ts: fc.option(fc.oneof(fc.double(), fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()))), quality: fc.option(fc.constantFrom('good', 'bad', 'uncertain', 'meh')) }, { requiredKeys: ['value'] }).map((o) => Buffer.from(JSON.stringify(o))),
  fc.double().map((d) => Buffer.from(String(d))),
  fc.constantFrom('NaN', 'Infinity', '-inf', '1e999', '', '  ', '0x10', '1_000', '+.5', '-0').map((s) => Buffer.from(s)),
);
const anyTopic = fc.oneof(
  fc.constantFrom(...signals.map((s) => `wwtp/${site}/${s.stage}/${s.id}`)),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 6 }).map((parts) => `wwtp/${site}/${parts.join('/')}`),
);

describe('ingest properties', () => {
  it('decodeReading never throws on any bytes', () => {
    fc.assert(
      fc.property(anyPayload, (payload) => {
        const out = decodeReading(payload);
        if ('reason' in out) expect(DEAD_LETTER_REASONS).toContain(out.reason);
        else expect(Number.isFinite(out.value)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('every message ends as one in-range reading, one dead letter, or an ignored own output, and is acked once', async () => {
    const h = ingestHarness({ clock, config });
    await fc.assert(
      fc.asyncProperty(anyTopic, anyPayload, async (topic, payload) => {
        const readingsBefore = h.sink.readings.length;
        const lettersBefore = h.sink.deadLetters.length;
        let acks = 0;
        const ok = await new Promise<boolean>((resolve) => h.ingest.handle(topic, payload, 1, (v) => { acks += 1; resolve(v); }));
        await new Promise((r) => setImmediate(r));
        expect(ok).toBe(true);
        expect(acks).toBe(1);
        const newReadings = h.sink.readings.slice(readingsBefore);
        const newLetters = h.sink.deadLetters.slice(lettersBefore);
        expect(newReadings.length + newLetters.length).toBeLessThanOrEqual(1);
        for (const r of newReadings) {
          const s = signals.find((x) => x.stage === r.stage && x.id === r.signal)!;
          expect(Number.isFinite(r.value)).toBe(true);
          expect(r.value).toBeGreaterThanOrEqual(s.min);
          expect(r.value).toBeLessThanOrEqual(s.max);
          expect(topic).toBe(`wwtp/${site}/${r.stage}/${r.signal}`);
        }
        for (const d of newLetters) {
          expect(DEAD_LETTER_REASONS).toContain(d.reason);
          expect(d.topic).toBe(topic.slice(0, 1024));
        }
        if (newReadings.length + newLetters.length === 0) {
          expect(topic).toMatch(new RegExp(`^wwtp/${site}/(edge|alarms|anomaly)/[^/]*$|^wwtp/${site}/[a-z]+/(setpoint|prediction|indicator)/[^/]*$`));
        }
      }),
      { numRuns: 3000 },
    );
    expect(h.sink.deadLetters.filter((d) => d.reason === 'handler_error')).toHaveLength(0);
  });

  it('a value inside the range with a sane ts is stored unchanged', async () => {
    const h = ingestHarness({ clock, config });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...signals).chain((s) => fc.tuple(fc.constant(s), fc.double({ min: s.min, max: s.max, noNaN: true }), fc.integer({ min: now - 86_400_000, max: now + 60_000 }), fc.boolean())),
        async ([s, value, ts, asJson]) => {
          const payload = asJson ? JSON.stringify({ value, ts }) : String(value);
          const before = h.sink.readings.length;
          await new Promise<boolean>((resolve) => h.ingest.handle(`wwtp/${site}/${s.stage}/${s.id}`, Buffer.from(payload), 1, resolve));
          const r = h.sink.readings[before];
          expect(r).toMatchObject({ stage: s.stage, signal: s.id, value: Object.is(value, -0) ? 0 : value, ts: asJson ? ts : now });
        },
      ),
      { numRuns: 1000 },
    );
  });
});
