import { from, lastValueFrom, map, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { StageWindow } from '../../src/contract/ports.js';
import type { Reading } from '../../src/contract/reading.js';
import { alignPlant, stagesWithSignals, toWindowRow, windowStages } from '../../src/windows/index.js';
import { MIN, T0, reading, runWindower, signal, windowsConfig } from './helpers.js';

const signals = [signal('influent', 'flow', 60), signal('influent', 'cod', 900), signal('aerobic', 'do', 60), signal('effluent', 'tss', 300)];
const config = { windows: windowsConfig(), signals };

/** Every signal at its period for `minutes` minutes from T0, values from `value`. */
function plantStream(minutes: number, value = (id: string, t: number) => (id === 'do' ? 2 : t / MIN)): Reading[] {
  const out: Reading[] = [];
  for (let t = T0; t < T0 + minutes * MIN; t += MIN) {
    for (const s of signals) if ((t - T0) % (s.periodSec * 1000) === 0) out.push(reading(s.stage, s.id, t, value(s.id, t - T0)));
  }
  return out;
}

describe('windowStages', () => {
  it('closes tumbling windows per stage once the watermark passes their end, flushing the rest at completion', async () => {
    const windows = await lastValueFrom(from(plantStream(16)).pipe(windowStages(config), toArray()));
    const ends = [...new Set(windows.map((w) => w.end - T0))];
    // 15:00 closes by watermark? max ts 15:00 - 60 s = 14:00: ends 5, 10 by watermark; 15 and 20 by the flush.
    expect(ends).toEqual([5 * MIN, 10 * MIN, 15 * MIN, 20 * MIN]);
    const first = windows.filter((w) => w.end === T0 + 5 * MIN);
    expect(first.map((w) => w.stage)).toEqual(['influent', 'aerobic', 'effluent']);
    const influent = first[0];
    expect(influent?.signals['flow']).toMatchObject({ count: 5, mean: 2, min: 0, max: 4, last: 4, stale: false, gappy: false });
    expect(influent?.signals['cod']).toMatchObject({ count: 1, mean: 0 });
    expect(influent?.quality).toBe(1);
    // COD every 15 min: windows without a COD reading carry the last one.
    const second = windows.find((w) => w.stage === 'influent' && w.end === T0 + 10 * MIN);
    expect(second?.signals['cod']).toMatchObject({ count: 0, mean: 0, stale: false });
  });

  it('gives a silent stage windows of quality 0 while other stages report', () => {
    const withSilent = { windows: windowsConfig(), signals: [...signals, signal('secondary', 'was_flow', 60)] };
    const windows = runWindower(withSilent, plantStream(30));
    const secondary = windows.filter((w) => w.stage === 'secondary');
    expect(secondary.length).toBeGreaterThanOrEqual(6);
    for (const w of secondary) expect(w).toMatchObject({ quality: 0, signals: {} });
  });

  it('marks a signal that stops reporting gappy, then stale, and lowers the stage quality', () => {
    const stream = plantStream(60).filter((r) => !(r.signal === 'do' && r.ts >= T0 + 22 * MIN));
    const aerobic = runWindower(config, stream).filter((w) => w.stage === 'aerobic');
    const at = (minute: number) => aerobic.find((w) => w.end === T0 + minute * MIN);
    expect(at(20)).toMatchObject({ quality: 1 });
    expect(at(25)?.signals['do']).toMatchObject({ gappy: true, stale: false, count: 2 });
    expect(at(30)?.signals['do']).toMatchObject({ gappy: true, stale: true, mean: 2 });
    expect(at(30)?.quality).toBe(0);
  });

  it('merges a reading late within the allowed lateness and counts one past it', () => {
    const late: Reading[] = [];
    const stream = plantStream(20);
    const within = reading('aerobic', 'do', T0 + 9 * MIN + 30_000, 5);
    const past = reading('aerobic', 'do', T0 + 2 * MIN + 30_000, 100);
    const at = stream.findIndex((r) => r.ts === T0 + 10 * MIN);
    stream.splice(at, 0, within);
    stream.splice(stream.length - 1, 0, past);
    const windows = runWindower(config, stream, { onLate: (r) => late.push(r) });
    const aerobic = windows.filter((w) => w.stage === 'aerobic');
    expect(aerobic.find((w) => w.end === T0 + 10 * MIN)?.signals['do']).toMatchObject({ count: 6, max: 5 });
    expect(aerobic.find((w) => w.end === T0 + 5 * MIN)?.signals['do']).toMatchObject({ count: 5, max: 2 });
    expect(late).toEqual([past]);
  });

  it('counts readings of unknown signals and leaves bad ones out of the features', () => {
    const dropped: string[] = [];
    const stream = [...plantStream(6), reading('aerobic', 'nope', T0, 1), reading('aerobic', 'do', T0 + 30_000, 99, 'bad')].sort((a, b) => a.ts - b.ts);
    const windows = runWindower(config, stream, { onDropped: (_r, reason) => dropped.push(reason) });
    expect(dropped.sort()).toEqual(['bad_quality', 'unknown_signal']);
    expect(windows.find((w) => w.stage === 'aerobic')?.signals['do']?.max).toBe(2);
  });

  it('builds sliding windows that overlap by size - slide', () => {
    const sliding = { windows: windowsConfig({ sizeSec: 600, slideSec: 300 }), signals };
    const influent = runWindower(sliding, plantStream(30)).filter((w) => w.stage === 'influent');
    const w = influent.find((x) => x.end === T0 + 20 * MIN);
    expect(w?.start).toBe(T0 + 10 * MIN);
    expect(w?.signals['flow']).toMatchObject({ count: 10, min: 10, max: 19 });
  });

  it('skips a long jump in event time after maxIdleWindows empty windows', () => {
    const skipped: number[] = [];
    const jumpy = { windows: windowsConfig({ maxIdleWindows: 4 }), signals };
    // The whole plant jumps (a PLC clock set forward): every reporting signal stands 30 days ahead.
    const J = T0 + 30 * 24 * 60 * MIN;
    const stream = [...plantStream(10), reading('influent', 'flow', J, 1), reading('aerobic', 'do', J, 2), reading('effluent', 'tss', J, 3), reading('influent', 'flow', J + 10 * MIN, 1)];
    const windows = runWindower(jumpy, stream, { onIdleSkipped: (n) => skipped.push(n) });
    const ends = [...new Set(windows.map((w) => w.end))];
    expect(ends.length).toBeLessThan(12);
    expect(skipped.reduce((a, b) => a + b, 0)).toBeGreaterThan(8000);
  });

  it('closes windows on event time, not on the scheduler clock (a 1000x replay behaves like live)', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const r = (m: number) => reading('aerobic', 'do', T0 + m * MIN, m);
      const oneSignal = { windows: windowsConfig({ allowedLatenessSec: 0 }), signals: [signal('aerobic', 'do', 60)] };
      // Scheduler frames are wall time; the readings are a minute of event time apart.
      const source = cold('a-b-c-d-e-f-|', { a: r(0), b: r(1), c: r(2), d: r(3), e: r(4), f: r(5) });
      const ends = source.pipe(
        windowStages(oneSignal),
        map((w) => [w.start - T0, w.end - T0, w.signals['do']?.count]),
      );
      expectObservable(ends).toBe('----------x-(y|)', { x: [0, 5 * MIN, 5], y: [5 * MIN, 10 * MIN, 1] });
    });
  });
});

describe('alignPlant', () => {
  it('groups the stage windows of one end and emits as soon as every stage reported', () => {
    const stages = stagesWithSignals(signals);
    const plants: { end: number; stages: string[] }[] = [];
    from(plantStream(16))
      .pipe(windowStages(config), alignPlant(stages))
      .subscribe((p) => plants.push({ end: p.end - T0, stages: Object.keys(p.stages) }));
    expect(plants).toEqual([5, 10, 15, 20].map((m) => ({ end: m * MIN, stages: ['influent', 'aerobic', 'effluent'] })));
  });

  it('without a stage list emits when the next end arrives or the source completes', () => {
    const w = (stage: StageWindow['stage'], end: number): StageWindow => ({ stage, start: end - 5, end, quality: 1, signals: {} });
    const plants: number[][] = [];
    from([w('influent', 5), w('aerobic', 5), w('influent', 10)])
      .pipe(alignPlant())
      .subscribe((p) => plants.push([p.end, Object.keys(p.stages).length]));
    expect(plants).toEqual([[5, 2], [10, 1]]);
  });
});

describe('toWindowRow', () => {
  it('stores the features as JSON keyed by signal', () => {
    const [first] = runWindower(config, plantStream(6));
    expect(first).toBeDefined();
    const row = toWindowRow(first as StageWindow);
    expect(row).toMatchObject({ stage: 'influent', windowStart: T0, windowEnd: T0 + 5 * MIN, quality: 1 });
    expect(JSON.parse(row.features)).toMatchObject({ flow: { count: 5, stale: false, gappy: false, filled: 0 } });
  });
});

describe('default plant config', () => {
  it('windows all 64 signals of config/default.yaml into one plant window per end', () => {
    const plant = loadConfig();
    const stream: Reading[] = [];
    for (let t = T0; t < T0 + 30 * MIN; t += MIN) {
      for (const s of plant.signals) if ((t - T0) % (s.periodSec * 1000) === 0) stream.push(reading(s.stage, s.id, t, (s.min + s.max) / 2));
    }
    const windows: { end: number; quality: number[] }[] = [];
    from(stream)
      .pipe(windowStages(plant), alignPlant(stagesWithSignals(plant.signals)))
      .subscribe((p) => windows.push({ end: p.end, quality: Object.values(p.stages).map((w) => w.quality) }));
    expect(plant.signals.length).toBe(64);
    expect(windows.length).toBe(6);
    for (const w of windows) expect(w.quality).toEqual(Array(9).fill(1));
  });
});
