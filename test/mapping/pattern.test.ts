import { describe, expect, it } from 'vitest';
import { fillTopic, matchTopic, parsePattern, parseTemplate, type TopicPattern } from '../../src/mapping/pattern.js';
import { parseJsonPath, readPath, writePath } from '../../src/mapping/json-path.js';
import { parseTime } from '../../src/mapping/time.js';

const pattern = (source: string): TopicPattern => {
  const p = parsePattern(source);
  if ('error' in p) throw new Error(p.error);
  return p;
};

describe('topic patterns with named levels', () => {
  it('matches like Telegraf topic parsing and gives the named levels', () => {
    const p = pattern('plant/+line/zone7/+tag');
    expect(p.filter).toBe('plant/+/zone7/+');
    expect(matchTopic(p, 'plant/ab3/zone7/ammonia')).toEqual({ line: 'ab3', tag: 'ammonia' });
    expect(matchTopic(p, 'plant/ab3/zone8/ammonia')).toBeUndefined();
    expect(matchTopic(p, 'plant/ab3/zone7')).toBeUndefined();
    expect(matchTopic(p, 'plant/ab3/zone7/ammonia/raw')).toBeUndefined();
    expect(matchTopic(pattern('plant/+/+tag'), 'plant/x/do')).toEqual({ tag: 'do' });
    expect(matchTopic(pattern('plant/#rest'), 'plant/a/b/c')).toEqual({ rest: 'a/b/c' });
    expect(matchTopic(pattern('+site/#'), '$SYS/broker')).toBeUndefined();
  });

  it('refuses what is no pattern', () => {
    expect(parsePattern('a/#/b')).toEqual({ error: '# must be the last level' });
    expect(parsePattern('a/+x/+x')).toEqual({ error: 'level name x used twice' });
    expect(parsePattern('a/b+c')).toEqual({ error: 'level "b+c": + and # start a level' });
    expect(parsePattern('a/+x-y')).toEqual({ error: 'level "+x-y": a level name is letters, digits and _' });
  });

  it('fills a topic and takes a tag template apart again (replay)', () => {
    const p = pattern('plant/+line/zone7/+tag');
    expect(fillTopic(p, { line: 'ab3', tag: 'nh4' })).toBe('plant/ab3/zone7/nh4');
    expect(fillTopic(p, { line: 'ab3' })).toBeUndefined();
    expect(fillTopic(p, { line: 'a/b', tag: 'x' })).toBeUndefined();
    const t = parseTemplate('{line}.{tag}');
    expect(t.fill({ line: 'ab3', tag: 'nh4' })).toBe('ab3.nh4');
    expect(t.parse('ab3.nh4')).toEqual({ line: 'ab3', tag: 'nh4' });
    expect(t.parse('ab3nh4')).toBeUndefined();
  });

  it('is checked at config load with its path', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    expect(() => loadConfig({ override: { tags: { mqtt: [{ topic: 'a/#/b' }] } } })).toThrow(/tags\.mqtt\[a\/#\/b\]\.topic: # must be the last level/);
    expect(() => loadConfig({ override: { tags: { mqtt: [{ topic: 'a/+x', tag: '{y}', value: 'v' }] } } })).toThrow(/tags\.mqtt\[a\/\+x\]\.tag: tag template names \{y\}, which is no level of a\/\+x/);
  });
});

describe('JSON paths and timestamps', () => {
  it('reads dotted paths with array indices and escaped dots', () => {
    const json = { v: 1.2, data: { 'a.b': 3, list: [{ x: 1 }, { x: 2 }] } };
    expect(readPath(json, parseJsonPath('v'))).toBe(1.2);
    expect(readPath(json, parseJsonPath('data.a\\.b'))).toBe(3);
    expect(readPath(json, parseJsonPath('data.list.1.x'))).toBe(2);
    expect(readPath(json, parseJsonPath('data.list.x'))).toBeUndefined();
    expect(readPath(json, parseJsonPath('nope.deeper'))).toBeUndefined();
    expect(readPath(json, parseJsonPath('@this'))).toBe(json);
    const out: Record<string, unknown> = {};
    writePath(out, parseJsonPath('a.b'), 1);
    writePath(out, parseJsonPath('a.c'), 2);
    expect(out).toEqual({ a: { b: 1, c: 2 } });
  });

  it('reads ISO text in the plant time zone, epoch ms and s', () => {
    expect(parseTime('2010-04-10T06:10:00', 'iso', 'America/Denver')).toBe(Date.UTC(2010, 3, 10, 12, 10));
    expect(parseTime('2021-12-14 16:42:00', 'iso', 'Europe/Amsterdam')).toBe(Date.UTC(2021, 11, 14, 15, 42));
    expect(parseTime('2021-07-20 04:12:00', 'iso', 'Europe/Amsterdam')).toBe(Date.UTC(2021, 6, 20, 2, 12));
    expect(parseTime('2021-07-20T04:12:00Z', 'iso', 'Europe/Amsterdam')).toBe(Date.UTC(2021, 6, 20, 4, 12));
    expect(parseTime('2021-07-20 04:12', 'iso')).toBe(Date.UTC(2021, 6, 20, 4, 12));
    expect(parseTime('2021-02-30 04:12', 'iso')).toBeNaN();
    expect(parseTime('2026-02-31T00:00:00Z', 'iso')).toBeNaN();
    expect(parseTime('2026-04-31 12:00:00+02:00', 'iso')).toBeNaN();
    expect(parseTime('2026-04-30 12:00:00+02:00', 'iso')).toBe(Date.UTC(2026, 3, 30, 10));
    expect(parseTime('yesterday', 'iso')).toBeNaN();
    expect(parseTime(1_700_000_000_000, 'epoch-ms')).toBe(1_700_000_000_000);
    expect(parseTime('1700000000', 'epoch-s')).toBe(1_700_000_000_000);
  });
});

describe('local timestamps with fractions', () => {
  it('keeps whole milliseconds, the digits beyond cut off', () => {
    expect(parseTime('2024-01-01 00:00:00.1239', 'iso')).toBe(Date.UTC(2024, 0, 1) + 123);
    expect(parseTime('2024-01-01 00:00:00.5', 'iso', 'Europe/Amsterdam')).toBe(Date.UTC(2023, 11, 31, 23) + 500);
  });
});
