import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StageWindow } from '../../src/contract/ports.js';
import type { Reading } from '../../src/contract/reading.js';
import { firstEndHolding, lastEndHolding } from '../../src/windows/grid.js';
import { StageWindower } from '../../src/windows/index.js';
import { MIN, T0, reading, runWindower, signal, windowsConfig } from './helpers.js';

const signals = [
  signal('influent', 'flow', 60),
  signal('influent', 'cod', 300),
  signal('aerobic', 'do', 60),
  signal('effluent', 'tss', 120),
  // Never reports: its stage must still get windows (quality 0).
  signal('secondary', 'was_flow', 60),
];
const reporting = signals.slice(0, 4);

const windowsArb = fc.record({
  sizeSec: fc.constantFrom(300, 600),
  slideSec: fc.constantFrom(100, 300),
  allowedLatenessSec: fc.integer({ min: 0, max: 400 }),
  maxGapPeriods: fc.integer({ min: 1, max: 4 }),
  staleAfterPeriods: fc.integer({ min: 2, max: 8 }),
  maxIdleWindows: fc.constantFrom(1, 2, 288),
  // These sparse random streams jump freely; each reading corroborates itself here. The guard
  // against a lone reading far ahead has its own properties (event-time.test.ts).
  jumpShare: fc.constant(0),
});

/** Readings at arbitrary event times over two hours, sorted, one per (signal, ts). */
const streamArb = fc
  .array(
    fc.record({
      which: fc.integer({ min: 0, max: reporting.length - 1 }),
      ts: fc.integer({ min: 0, max: 120 * MIN }),
      value: fc.double({ min: -1000, max: 1000, noNaN: true }),
    }),
    { maxLength: 250 },
  )
  .map((items) => {
    const seen = new Set<string>();
    const out: Reading[] = [];
    for (const item of items) {
      const s = reporting[item.which];
      if (!s || seen.has(`${s.id}/${item.ts}`)) continue;
      seen.add(`${s.id}/${item.ts}`);
      out.push(reading(s.stage, s.id, T0 + item.ts, item.value));
    }
    return out.sort((a, b) => a.ts - b.ts);
  });

/** A failing case with a long stream shrinks slowly: bound the run, shrinking included. */
const RUN = { numRuns: 150, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true };

describe('window properties', () => {
  it('any arrival order within the allowed lateness gives the windows of the sorted stream', () => {
    fc.assert(
      fc.property(windowsArb, streamArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 250, maxLength: 250 }), (windows, sorted, delays) => {
        const config = { windows: windowsConfig(windows), signals };
        const latenessMs = windows.allowedLatenessSec * 1000;
        // Arrival at ts + delay (delay <= lateness): each reading comes before the watermark passes it.
        const shuffled = sorted
          .map((r, i) => ({ r, arrival: r.ts + Math.floor((delays[i] ?? 0) * latenessMs) }))
          .sort((a, b) => a.arrival - b.arrival)
          .map((x) => x.r);
        const late: Reading[] = [];
        const expected = runWindower(config, sorted);
        const actual = runWindower(config, shuffled, { onLate: (r) => late.push(r) });
        expect(late).toEqual([]);
        expect(actual).toEqual(expected);
      }),
      RUN,
    );
  });

  it('readings past the allowed lateness are counted and change no window', () => {
    fc.assert(
      fc.property(windowsArb, streamArb, fc.array(fc.integer({ min: 1, max: 3 * 3600 * 1000 }), { minLength: 1, maxLength: 20 }), (windows, sorted, backs) => {
        const config = { windows: windowsConfig(windows), signals };
        const sizeMs = windows.sizeSec * 1000;
        const windower = new StageWindower(config, { onLate: () => (counted += 1) });
        let counted = 0;
        let injected = 0;
        const out: StageWindow[] = [];
        sorted.forEach((r, i) => {
          out.push(...windower.push(r));
          const back = backs[i % backs.length] ?? 1;
          if (out.length > 0 && i % 3 === 0) {
            // Older than the start of every window the watermark has not closed.
            const ts = windower.watermark - sizeMs - back;
            expect(windower.push(reading('aerobic', 'do', ts, 1e6))).toEqual([]);
            injected += 1;
          }
        });
        out.push(...windower.flush());
        expect(counted).toBe(injected);
        expect(out).toEqual(runWindower(config, sorted));
      }),
      RUN,
    );
  });

  it('the watermark never goes back, window ends never go back and no window is emitted twice', () => {
    fc.assert(
      fc.property(windowsArb, streamArb, (windows, sorted) => {
        const config = { windows: windowsConfig(windows), signals };
        const windower = new StageWindower(config);
        // Arrival order mixed beyond the lateness: some readings come too late.
        const mixed = [...sorted].sort((a, b) => (a.value * 7919) % 13 - (b.value * 7919) % 13 || a.ts - b.ts);
        let watermark = -Infinity;
        let lastEnd = -Infinity;
        const keys = new Set<string>();
        for (const r of mixed) {
          for (const w of windower.push(r)) {
            expect(w.end).toBeGreaterThanOrEqual(lastEnd);
            expect(w.end).toBeLessThanOrEqual(windower.watermark);
            expect(keys.has(`${w.stage}/${w.end}`)).toBe(false);
            keys.add(`${w.stage}/${w.end}`);
            lastEnd = w.end;
          }
          expect(windower.watermark).toBeGreaterThanOrEqual(watermark);
          watermark = windower.watermark;
        }
      }),
      RUN,
    );
  });

  it('memory is bounded: open windows and held readings stay within size + lateness of event time', () => {
    fc.assert(
      fc.property(windowsArb, streamArb, (windows, sorted) => {
        const config = { windows: windowsConfig(windows), signals };
        const { sizeSec, slideSec, allowedLatenessSec } = windows;
        const bound = Math.ceil((sizeSec + allowedLatenessSec) / slideSec) + 1;
        const windower = new StageWindower(config);
        sorted.forEach((r, i) => {
          windower.push(r);
          expect(windower.openWindows).toBeLessThanOrEqual(bound);
          const horizon = r.ts - (sizeSec + allowedLatenessSec) * 1000;
          const recent = sorted.slice(0, i + 1).filter((x) => x.ts >= horizon).length;
          expect(windower.bufferedReadings).toBeLessThanOrEqual(recent);
        });
      }),
      RUN,
    );
  });

  it('every stage with signals gets one window per end, and the silent stage has quality 0', () => {
    fc.assert(
      fc.property(windowsArb, streamArb, (windows, sorted) => {
        const out = runWindower({ windows: windowsConfig(windows), signals }, sorted);
        const ends = [...new Set(out.map((w) => w.end))];
        for (const end of ends) expect(out.filter((w) => w.end === end).map((w) => w.stage)).toEqual(['influent', 'aerobic', 'secondary', 'effluent']);
        for (let i = 1; i < ends.length; i += 1) {
          const step = ((ends[i] ?? 0) - (ends[i - 1] ?? 0)) / (windows.slideSec * 1000);
          // Consecutive ends unless an idle stretch (no reading anywhere) was skipped.
          if (windows.maxIdleWindows >= 288) expect(step).toBe(1);
          else expect(Number.isInteger(step) && step >= 1).toBe(true);
        }
        // No window holding a reading is ever skipped.
        const emitted = new Set(ends);
        const grid = { sizeMs: windows.sizeSec * 1000, slideMs: windows.slideSec * 1000 };
        for (const r of sorted) {
          for (let end = firstEndHolding(grid, r.ts); end <= lastEndHolding(grid, r.ts); end += grid.slideMs) expect(emitted.has(end)).toBe(true);
        }
        for (const w of out.filter((x) => x.stage === 'secondary')) expect(w.quality).toBe(0);
        for (const w of out) expect(w.quality).toBeGreaterThanOrEqual(0);
      }),
      RUN,
    );
  });

  it('gaps of up to maxGapPeriods are filled exactly once, longer gaps mark a window gappy', () => {
    const P = 60_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 9 }),
        (maxGapPeriods, steps, offset) => {
          const one = [signal('aerobic', 'do', 60)];
          const config = { windows: windowsConfig({ maxGapPeriods, staleAfterPeriods: 100, allowedLatenessSec: 0 }), signals: one };
          let k = offset;
          const ticks = [k];
          for (const step of steps) ticks.push((k += step));
          const stream = ticks.map((t) => reading('aerobic', 'do', T0 + t * P, t));
          const out = runWindower(config, stream);
          const features = out.map((w) => w.signals['do']).filter((f) => f !== undefined);
          const long = steps.some((s) => s > maxGapPeriods);
          expect(features.some((f) => f.gappy)).toBe(long);
          expect(features.reduce((n, f) => n + f.count, 0)).toBe(ticks.length);
          if (!long) {
            const missing = steps.reduce((n, s) => n + s - 1, 0);
            expect(features.reduce((n, f) => n + f.filled, 0)).toBe(missing);
          }
        },
      ),
      { ...RUN, numRuns: 300 },
    );
  });
});
