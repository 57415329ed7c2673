import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../src/contract/reading.js';
import { PlantEventTime, agreedTime, quorumInForce } from '../../src/windows/event-time.js';
import { MIN, T0, reading, runWindower, signal, windowsConfig } from './helpers.js';

const signals = [signal('influent', 'flow', 60), signal('influent', 'cod', 300), signal('aerobic', 'do', 60), signal('effluent', 'tss', 120)];
const DAY = 24 * 60 * MIN;

/** Every signal at its period for `minutes` minutes from `start`. */
function plantStream(start: number, minutes: number): Reading[] {
  const out: Reading[] = [];
  for (let t = start; t < start + minutes * MIN; t += MIN) {
    for (const s of signals) if ((t - start) % (s.periodSec * 1000) === 0) out.push(reading(s.stage, s.id, t, (t - start) / MIN));
  }
  return out;
}

const totalCount = (windows: ReturnType<typeof runWindower>): number =>
  windows.reduce((n, w) => n + Object.values(w.signals).reduce((m, f) => m + f.count, 0), 0);

const RUN = { numRuns: 100, interruptAfterTimeLimit: 15_000, markInterruptAsFailure: true };

describe('agreedTime', () => {
  it('is the latest time that quorum signals reached', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 20 }), (times, quorum) => {
        const agreed = agreedTime(times, quorum);
        if (quorum > times.length) {
          expect(agreed).toBeUndefined();
          return;
        }
        expect(agreed).toBeDefined();
        expect(times.filter((t) => t >= (agreed ?? Infinity)).length).toBeGreaterThanOrEqual(quorum);
        // No later time is reached by as many.
        expect(times.filter((t) => t > (agreed ?? Infinity)).length).toBeLessThan(quorum);
      }),
    );
  });

  it('asks more than the share of the live signals, at most all of them, never below one', () => {
    expect(quorumInForce(0.5, 0)).toBe(1);
    expect(quorumInForce(0.5, 1)).toBe(1);
    expect(quorumInForce(0.5, 2)).toBe(2);
    expect(quorumInForce(0.5, 4)).toBe(3);
    expect(quorumInForce(0.5, 25)).toBe(13);
    expect(quorumInForce(0, 25)).toBe(1);
    expect(quorumInForce(1, 25)).toBe(25);
  });
});

describe('PlantEventTime', () => {
  const arbReading = fc.record({
    which: fc.integer({ min: 0, max: signals.length - 1 }),
    ts: fc.oneof(fc.integer({ min: 0, max: 120 * MIN }), fc.integer({ min: 0, max: 30 * DAY })),
  });

  it('lets every reading in once, holds it, or evicts it: nothing is lost or doubled, the hold stays bounded', () => {
    fc.assert(
      fc.property(fc.array(arbReading, { maxLength: 300 }), fc.constantFrom(0, 0.5, 0.9), fc.integer({ min: 1, max: 50 }), (items, share, maxHeld) => {
        const clock = new PlantEventTime({ leadMs: 5 * MIN, share, maxHeld, liveMs: 5 * MIN });
        const pushed = items.map((it, i) => ({ ...reading(signals[it.which]?.stage ?? 'influent', signals[it.which]?.id ?? 'flow', T0 + it.ts, i) }));
        const seen: number[] = [];
        let last = -Infinity;
        for (const r of pushed) {
          const step = clock.push(r);
          for (const a of step.admitted) seen.push(a.value);
          for (const e of step.evicted) seen.push(e.value);
          expect(clock.heldReadings).toBeLessThanOrEqual(maxHeld);
          expect(clock.eventTime).toBeGreaterThanOrEqual(last);
          last = clock.eventTime;
        }
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length + clock.heldReadings).toBe(pushed.length);
      }),
      RUN,
    );
  });
});

describe('windows against a reading stamped far ahead', () => {
  it('a lone stray reading moves nothing: no reading is late and the windows are those of the plant without it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: signals.length - 1 }),
        // Beyond the end of the plant's stream, so the plant never catches up with it.
        fc.integer({ min: 3 * 60 * MIN, max: 30 * DAY }),
        fc.integer({ min: 0, max: 1000 }),
        fc.constantFrom(1, 2, 288),
        (which, ahead, at, maxIdleWindows) => {
          const config = { windows: windowsConfig({ maxIdleWindows }), signals };
          const plant = plantStream(T0, 120);
          // After the plant's first minute: every signal has reported (before that the quorum is of what reported).
          const cut = signals.length + (at % (plant.length - signals.length));
          const now = plant[cut]?.ts ?? T0;
          const s = signals[which] ?? signals[0];
          const stray = reading(s?.stage ?? 'influent', s?.id ?? 'flow', now + ahead, 2.1);
          let late = 0;
          let held = 0;
          const windows = runWindower(config, [...plant.slice(0, cut), stray, ...plant.slice(cut)], { onLate: () => (late += 1), onAhead: () => (held += 1) });
          expect(late).toBe(0);
          expect(held).toBe(1);
          expect(windows).toEqual(runWindower(config, plant));
        },
      ),
      RUN,
    );
  });

  it('a stray reading the plant catches up with enters its window then, and still makes no other reading late', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: signals.length - 1 }), fc.integer({ min: 61_000, max: 90 * MIN }), fc.integer({ min: 0, max: 1000 }), (which, ahead, at) => {
        const config = { windows: windowsConfig(), signals };
        const plant = plantStream(T0, 120);
        const cut = signals.length + (at % (plant.length - signals.length));
        const s = signals[which] ?? signals[0];
        const stray = reading(s?.stage ?? 'influent', s?.id ?? 'flow', (plant[cut]?.ts ?? T0) + ahead + 1, 2.1);
        let late = 0;
        runWindower(config, [...plant.slice(0, cut), stray, ...plant.slice(cut)], { onLate: () => (late += 1) });
        expect(late).toBe(0);
      }),
      RUN,
    );
  });

  it('when the whole plant jumps ahead the windows follow: every reading after the jump is windowed, none late', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6 * MIN, max: 30 * DAY }), fc.constantFrom(0, 0.5, 0.9), fc.constantFrom(1, 288), (jump, share, maxIdleWindows) => {
        const config = { windows: windowsConfig({ maxIdleWindows, jumpShare: share }), signals };
        const before = plantStream(T0, 60);
        const after = plantStream(T0 + 60 * MIN + jump, 60);
        let late = 0;
        let held = 0;
        const windows = runWindower(config, [...before, ...after], { onLate: () => (late += 1), onAhead: () => (held += 1) });
        expect(late).toBe(0);
        // Only readings before the quorum stood ahead waited, and only briefly: all are in the windows.
        expect(held).toBeLessThan(quorumInForce(share, signals.length));
        expect(totalCount(windows)).toBe(before.length + after.length);
        // The first window after the jump closes with the plant's readings of its span.
        const firstAfter = windows.find((w) => w.stage === 'influent' && w.start >= (after[0]?.ts ?? 0));
        expect(firstAfter?.signals['flow']?.count).toBe(5);
      }),
      RUN,
    );
  });

  it('one PLC with its clock two hours ahead (a minority of the signals) does not move the plant: the others are never late', () => {
    const config = { windows: windowsConfig(), signals };
    const wrongClock = new Set(['flow', 'cod']);
    const plant = plantStream(T0, 60);
    const skewed = plant.map((r, i) => (i >= signals.length && wrongClock.has(r.signal) ? { ...r, ts: r.ts + 120 * MIN, receivedAt: r.ts } : r));
    const late: string[] = [];
    const windows = runWindower(config, skewed, { onLate: (r) => late.push(r.signal) });
    expect(late).toEqual([]);
    const aerobic = windows.filter((w) => w.stage === 'aerobic');
    expect(aerobic.map((w) => w.end - T0)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 1) * 5 * MIN));
    expect(aerobic.every((w) => w.signals['do']?.stale === false)).toBe(true);
  });

  it('a stray stream on one signal is held, bounded and counted, while the rest of the plant keeps its windows', () => {
    const config = { windows: windowsConfig({ maxAheadReadings: 10 }), signals };
    const plant = plantStream(T0, 60);
    const strays = Array.from({ length: 50 }, (_, i) => reading('aerobic', 'do', T0 + 14 * DAY + i * MIN, 2.1));
    const mixed = [...plant.slice(0, signals.length), ...plant.slice(signals.length).flatMap((r, i) => (i < strays.length ? [r, strays[i] as Reading] : [r]))];
    let late = 0;
    let evicted = 0;
    const windows = runWindower(config, mixed, { onLate: () => (late += 1), onAheadEvicted: () => (evicted += 1) });
    expect(late).toBe(0);
    expect(evicted).toBe(40);
    expect(windows).toEqual(runWindower(config, plant));
  });
});
