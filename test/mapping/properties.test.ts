import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonPath, readPath, writePath } from '../../src/mapping/json-path.js';
import { fillTopic, matchTopic, parsePattern, parseTemplate, type TopicPattern } from '../../src/mapping/pattern.js';
import { formatTime, parseTime } from '../../src/mapping/time.js';
import { conversion, UNITS } from '../../src/mapping/units.js';

const level = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);

describe('tag map properties', () => {
  it('a topic filled from a pattern matches it and gives back the same levels', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), fc.array(level, { minLength: 4, maxLength: 4 }), fc.array(level, { minLength: 5, maxLength: 5 }), (names, values, literals) => {
        const source = names.map((n, i) => `${literals[i]}/+${n}`).join('/');
        const pattern = parsePattern(source) as TopicPattern;
        const levels = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
        const topic = fillTopic(pattern, levels);
        expect(topic).toBeDefined();
        expect(matchTopic(pattern, topic!)).toEqual(levels);
      }),
    );
  });

  it('a tag name made by a template with separators is taken apart into the same values', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9]{1,6}$/), { minLength: 1, maxLength: 3 }), fc.constantFrom('.', '/', ':', '-'), (values, sep) => {
        const names = values.map((_, i) => `n${i}`);
        const template = parseTemplate(names.map((n) => `{${n}}`).join(sep));
        const levels = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
        const tag = template.fill(levels)!;
        expect(template.parse(tag)).toEqual(levels);
      }),
    );
  });

  it('a value written at a path is read back at it', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z][a-z0-9.]{0,5}$/), { minLength: 1, maxLength: 4 }), fc.double({ noNaN: true }), (keys, value) => {
        const source = keys.map((k) => k.replace(/\./g, '\\.')).join('.');
        const path = parseJsonPath(source);
        expect(path).toEqual(keys);
        const target: Record<string, unknown> = {};
        writePath(target, path, value);
        expect(readPath(JSON.parse(JSON.stringify(target)), path)).toBe(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('converting to another unit of the dimension and back gives the value, and is monotonic', () => {
    const names = [...UNITS.keys()];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.constantFrom(...names), fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0.001, max: 1e3, noNaN: true }), (a, b, v, step) => {
        const there = conversion(a, b);
        if ('error' in there) {
          expect(UNITS.get(a)?.dimension).not.toBe(UNITS.get(b)?.dimension);
          return;
        }
        const back = conversion(b, a) as (x: number) => number;
        expect(back(there(v))).toBeCloseTo(v, 6 - Math.max(0, Math.log10(Math.abs(v) + 1)));
        expect(there(v + step)).toBeGreaterThan(there(v));
      }),
    );
  });

  it('an epoch time written as ISO, epoch ms or epoch s reads back the same', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.constantFrom('iso', 'epoch-ms', 'epoch-s') as fc.Arbitrary<'iso' | 'epoch-ms' | 'epoch-s'>, fc.constantFrom('UTC', 'Europe/Amsterdam', 'America/Denver'), (ms, format, zone) => {
        // exact: the store keeps whole milliseconds and cuts the rest, so 0.0002 ms short is a millisecond lost
        expect(Math.floor(parseTime(formatTime(ms, format), format, zone))).toBe(ms);
      }),
      { numRuns: 2_000 },
    );
  });
});
