import { describe, expect, it } from 'vitest';
import type { StageWindow } from '../../src/contract/ports.js';
import type { Reading } from '../../src/contract/reading.js';
import { StageWindower, type WindowingConfig } from '../../src/windows/index.js';
import { windowsOpenAtStop, type RecentRows } from '../../src/windows/resume.js';
import type { ReadingRow, WindowRow } from '../../src/contract/rows.js';
import { MIN, T0, reading, runWindower, signal, windowsConfig } from './helpers.js';

/**
 * A windower started after the last stored window (resumeAfter), fed the readings a hard stop left in
 * the windows after it and then the live ones, makes the same windows as one that never stopped.
 */
const readings: Reading[] = Array.from({ length: 120 }, (_, i) => [
  reading('aerobic', 'do', T0 + i * 30_000, 2 + Math.sin(i / 5)),
  reading('aerobic', 'nh4_n', T0 + i * 30_000 + 7_000, 1 + (i % 9) / 3),
]).flat();

function resumed(config: WindowingConfig, stopAfter: number): { before: StageWindow[]; after: StageWindow[] } {
  const first = new StageWindower(config);
  const before: StageWindow[] = [];
  for (const r of readings.slice(0, stopAfter)) before.push(...first.push(r));
  // kill -9: the open windows are lost; the store holds every reading and the closed windows
  const lastEnd = Math.max(...before.map((w) => w.end));
  const from = lastEnd + config.windows.slideSec * 1000 - config.windows.sizeSec * 1000;
  const next = new StageWindower(config);
  next.resumeAfter(lastEnd);
  const after: StageWindow[] = [];
  for (const r of readings.slice(0, stopAfter).filter((x) => x.ts >= from)) after.push(...next.push(r));
  for (const r of readings.slice(stopAfter)) after.push(...next.push(r));
  after.push(...next.flush());
  return { before, after };
}

describe('windows resumed after a hard stop', () => {
  for (const [label, sizeSec, slideSec] of [['tumbling', 300, 300], ['sliding', 900, 300]] as const) {
    it(`${label} windows: the same windows as without the stop, none twice`, () => {
      const config: WindowingConfig = { windows: windowsConfig({ sizeSec, slideSec }), signals: [signal('aerobic', 'do', 30), signal('aerobic', 'nh4_n', 30)] };
      const whole = runWindower(config, readings);
      for (const stopAfter of [37, 80, 131]) {
        const { before, after } = resumed(config, stopAfter);
        expect([...before, ...after]).toEqual(whole);
      }
    });
  }

  it('a reading of a window closed before the stop is late, not a second window', () => {
    const config: WindowingConfig = { windows: windowsConfig(), signals: [signal('aerobic', 'do', 30)] };
    const late: Reading[] = [];
    const next = new StageWindower(config, { onLate: (r) => late.push(r) });
    next.resumeAfter(T0 + 10 * MIN);
    const out = [reading('aerobic', 'do', T0 + 9 * MIN, 1), reading('aerobic', 'do', T0 + 40 * MIN, 2), reading('aerobic', 'do', T0 + 47 * MIN, 3)].flatMap((r) => next.push(r));
    expect(late.map((r) => r.ts)).toEqual([T0 + 9 * MIN]);
    // after an outage the windows start at the first live reading's, not at the stored one's end
    expect(out.map((w) => w.end)).toEqual([T0 + 45 * MIN]);
  });

  it('finds every reading of the windows open at the stop however many arrived in them, searching back page by page', () => {
    // a busy plant: 350,000 readings in the 4 minutes after the last window, behind 50,000 of closed windows
    const lastEnd = T0 + 60 * MIN;
    const rows: ReadingRow[] = [];
    for (let i = 0; i < 50_000; i += 1) rows.push({ stage: 'aerobic', signal: 'do', ts: lastEnd - 30 * MIN + i, value: 1, quality: 'good' });
    for (let i = 0; i < 350_000; i += 1) rows.push({ stage: 'aerobic', signal: 'do', ts: lastEnd - 4 * MIN + Math.floor(i / 2), value: 2, quality: i % 1000 === 0 ? 'bad' : 'good' });
    const store: RecentRows = {
      maxSeq: (table) => (table === 'windows' ? 1 : rows.length),
      readAfter: ((table: 'windows' | 'readings', after: number, limit: number) =>
        table === 'windows' ? { rows: [{ windowEnd: lastEnd } as WindowRow] } : { rows: rows.slice(after, after + limit) }) as RecentRows['readAfter'],
    };
    const open = windowsOpenAtStop(store, { sizeSec: 300, slideSec: 60 }, 2_000_000, 100_000);
    expect(open?.complete).toBe(true);
    expect(open?.readings).toHaveLength(350_000 - 350);
    expect(open?.readings.every((r, i, all) => r.value === 2 && (i === 0 || (all[i - 1]?.ts ?? 0) <= r.ts))).toBe(true);
    // searched no further than the limit: what it found, and that it is not all
    const capped = windowsOpenAtStop(store, { sizeSec: 300, slideSec: 60 }, 250_000, 100_000);
    expect(capped?.complete).toBe(false);
    expect(capped?.readings).toHaveLength(250_000 - 250);
  });
});
