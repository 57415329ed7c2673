import { describe, expect, it } from 'vitest';
import { tagsSchema } from '../../src/config/sections/tags.js';
import { createTagMap } from '../../src/mapping/tag-map.js';
import { formatTime, parseTime } from '../../src/mapping/time.js';
import { timePattern, timePatternError } from '../../src/mapping/time-pattern.js';

describe('time patterns of historian exports', () => {
  it('reads what it writes, for every minute pattern and zone tried, across the clock changes', () => {
    const patterns = ['DD.MM.YYYY hh:mm:ss', 'MM/DD/YYYY h:mm:ss A', 'YYYY-MM-DD hh:mm:ss.SSS', 'DD/MM/YYYY hh:mm[:ss]'];
    const zones = ['UTC', 'Europe/Berlin', 'America/Chicago', 'Australia/Adelaide'];
    // every 7 h 13 min 17 s over two years: all hours, both halves of the day, the DST nights
    for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 26_000_000 + 17_000) {
      for (const format of patterns) {
        for (const zone of zones) {
          const text = formatTime(ms, format, zone);
          expect(typeof text).toBe('string');
          const want = format.includes('SSS') ? ms : Math.floor(ms / 1000) * 1000;
          // a wall time the clocks pass twice (the fall-back hour) reads as its earlier instant
          expect([want, want - 3_600_000]).toContain(parseTime(text, format, zone));
        }
      }
    }
  });

  it('takes one- or two-digit fields and an optional part, and refuses no dates', () => {
    const p = timePattern('DD.MM.YYYY hh:mm[:ss]');
    expect(p.parse('7.3.2026 9:05')).toBe(Date.UTC(2026, 2, 7, 9, 5));
    expect(p.parse('07.03.2026 09:05:59')).toBe(Date.UTC(2026, 2, 7, 9, 5, 59));
    for (const bad of ['31.02.2026 10:00', '07.13.2026 10:00', '07.03.2026 24:00', '07.03.2026 10:60', '07.03.26 10:00', '2026-03-07 10:00', '']) expect(p.parse(bad)).toBeNaN();
    const us = timePattern('MM/DD/YYYY h:mm A');
    expect(us.parse('12/31/2025 12:00 AM')).toBe(Date.UTC(2025, 11, 31, 0, 0));
    expect(us.parse('12/31/2025 12:00 pm')).toBe(Date.UTC(2025, 11, 31, 12, 0));
    expect(us.parse('12/31/2025 13:00 PM')).toBeNaN();
    expect(timePattern('YYYY-MM-DD hh:mm:ss.SSS').parse('2026-03-07 10:00:00.1239')).toBe(Date.UTC(2026, 2, 7, 10, 0, 0, 123));
  });

  it('names what a pattern lacks', () => {
    expect(timePatternError('DD.MM.YYYY hh:mm')).toBeUndefined();
    expect(timePatternError('MM/DD hh:mm')).toMatch(/no YYYY/);
    expect(timePatternError('DD.MM.YYYY')).toMatch(/no mm/);
    expect(timePatternError('DD.MM.YYYY h:mm')).toMatch(/h \(1-12\) and A/);
    expect(timePatternError('DD.MM.YYYY [hh:mm')).toMatch(/not closed/);
  });
});

describe('a live MQTT source with its own time layout', () => {
  it("reads a SCADA's day-first local time from the payload as the instant it names", () => {
    const tags = tagsSchema.parse({
      mqtt: [{ topic: 'scada/+tag', value: 'v', timestamp: { path: 't', format: 'DD.MM.YYYY hh:mm:ss', timezone: 'Europe/Berlin' } }],
      points: [{ tag: 'O2', stage: 'aerobic', signal: 'do' }],
    });
    const map = createTagMap(tags, [{ stage: 'aerobic', id: 'do', unit: 'mg/L', min: 0, max: 20, periodSec: 60 }] as never);
    const hit = map.match('scada/O2');
    if (!hit) throw new Error('no source matched');
    const samples = map.decode(hit.source, hit.levels, Buffer.from('{"v": 2.4, "t": "28.06.2026 14:30:05"}'));
    expect(samples).toEqual([expect.objectContaining({ tag: 'O2', value: 2.4, ts: Date.UTC(2026, 5, 28, 12, 30, 5) })]);
    expect(map.decode(hit.source, hit.levels, Buffer.from('{"v": 2.4, "t": "2026-06-28T14:30:05Z"}'))).toMatchObject({ reason: 'bad_timestamp' });
  });
});
