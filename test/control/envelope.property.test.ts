import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createControl, type ControlExtras } from '../../src/control/index.js';
import { applyEnvelope, type Proposal } from '../../src/control/envelope.js';
import { POLICIES } from '../../src/control/policies/index.js';
import type { LoopId, StageId } from '../../src/contract/plant.js';
import type { AlarmSink, HmiCommand, PlantWindow, SignalFeatures, StageWindow } from '../../src/contract/ports.js';
import type { SetpointMessage } from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { defaultControl, ManualClock, MemoryStateStore, MemoryTables, RecordingPublisher } from './memory.js';

const control = defaultControl();
const logger = silentLogger();
const loops = control.loops;
const nastyNumber = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e308, -1e308) },
);

/** Every signal any policy reads, plus the feed-forward and trim inputs. */
const SIGNALS: readonly { stage: StageId; signal: string }[] = [
  ...new Map(
    [
      ...Object.values(POLICIES).flatMap((p) => p.requires),
      { stage: 'influent' as const, signal: 'flow' },
      { stage: 'influent' as const, signal: 'nh4_n' },
      { stage: 'influent' as const, signal: 'cod' },
      { stage: 'influent' as const, signal: 'tn' },
      { stage: 'effluent' as const, signal: 'no3_n' },
      { stage: 'effluent' as const, signal: 'tp' },
      { stage: 'effluent' as const, signal: 'flow' },
      { stage: 'effluent' as const, signal: 'tss' },
    ].map((r) => [`${r.stage}/${r.signal}`, r]),
  ).values(),
];

const features: fc.Arbitrary<SignalFeatures> = fc
  .tuple(nastyNumber, nastyNumber, nastyNumber, fc.integer({ min: 0, max: 7 }))
  .map(([mean, last, slope, flags]) => ({ mean, last, min: Math.min(mean, last), max: Math.max(mean, last), slope, count: 5, filled: 0, stale: flags === 0, gappy: flags === 1 }));

const window = (end: number, quality: number, signals: (SignalFeatures | null)[]): PlantWindow => {
  const stages: Partial<Record<StageId, StageWindow>> = {};
  SIGNALS.forEach((ref, i) => {
    const f = signals[i];
    const stage = (stages[ref.stage] ??= { stage: ref.stage, start: end - 300_000, end, quality, signals: {} });
    if (f) (stage.signals as Record<string, SignalFeatures>)[ref.signal] = f;
  });
  return { start: end - 300_000, end, stages };
};

type Step =
  | { kind: 'window'; dt: number; quality: number; signals: (SignalFeatures | null)[]; anomaly: StageId | null; whatIf: number | null }
  | { kind: 'command'; loop: LoopId; mode: 'auto' | 'manual'; value: number | undefined }
  | { kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('window' as const),
      // Mostly forward in time, sometimes repeated or out of order.
      dt: fc.oneof({ weight: 5, arbitrary: fc.constant(300_000) }, { weight: 2, arbitrary: fc.integer({ min: -900_000, max: 7_200_000 }) }),
      quality: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN)),
      signals: fc.array(fc.option(features, { freq: 6 }), { minLength: SIGNALS.length, maxLength: SIGNALS.length }),
      anomaly: fc.option(fc.constantFrom<StageId>('aerobic', 'anoxic', 'membrane', 'secondary', 'phosphorus', 'influent'), { freq: 4 }),
      whatIf: fc.option(nastyNumber, { freq: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      loop: fc.constantFrom<LoopId>(...loops.map((l) => l.id)),
      mode: fc.constantFrom<'auto' | 'manual'>('auto', 'manual'),
      value: fc.option(nastyNumber, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

describe('safety envelope (property)', () => {
  it('applyEnvelope keeps every value finite, inside [min, max] and, in auto, within maxStep', () => {
    const proposal: fc.Arbitrary<Proposal> = fc.oneof(
      fc.record({ mode: fc.constant('auto' as const), value: nastyNumber, reason: fc.constant('p') }),
      fc.record({ mode: fc.constant('manual' as const), value: nastyNumber, reason: fc.constant('m') }),
      fc.record({ mode: fc.constant('fallback' as const), reason: fc.constant('f') }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...loops), fc.option(nastyNumber, { nil: undefined }), proposal, (loop, previous, p) => {
        const out = applyEnvelope(loop, previous, p);
        expect(Number.isFinite(out.value)).toBe(true);
        expect(out.value).toBeGreaterThanOrEqual(loop.min);
        expect(out.value).toBeLessThanOrEqual(loop.max);
        if (out.mode === 'auto' && previous !== undefined && previous >= loop.min && previous <= loop.max) {
          expect(Math.abs(out.value - previous)).toBeLessThanOrEqual(loop.maxStep + 1e-9);
        }
        if (out.mode === 'fallback') expect(out.value).toBe(loop.fallback);
      }),
      { numRuns: 20_000 },
    );
  });

  it('no published setpoint leaves its envelope or step limit, NaN is never published, over 10,000 random sequences', () => {
    let sequences = 0;
    const modes = { auto: 0, manual: 0, fallback: 0 };
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), (steps) => {
        sequences++;
        const state = new MemoryStateStore();
        const publisher = new RecordingPublisher();
        const alarms: AlarmSink = { raise: () => undefined, clear: () => undefined };
        let t = 1_700_000_000_000;
        // The daemon's clock follows event time, as in a plant (a clock far behind it is another test).
        const clock = new ManualClock(t);
        const make = () =>
          createControl({ config: control, site: 'test', publisher, tables: new MemoryTables(), state, alarms, logger, clock });
        let ctl = make();
        for (const s of steps) {
          if (s.kind === 'restart') ctl = make();
          else if (s.kind === 'command') {
            t += 1000;
            clock.advance(1000);
            const cmd: HmiCommand = { kind: 'loop_mode', loop: s.loop, mode: s.mode, value: s.value, by: 'op', ts: t };
            ctl.onCommand(cmd);
          } else {
            t += s.dt;
            if (s.dt > 0) clock.advance(s.dt);
            const whatIfValue = s.whatIf;
            const extras: ControlExtras = {
              anomalies: s.anomaly ? [{ stage: s.anomaly, ts: t, score: 2, threshold: 1, isAnomaly: true, contributors: '[]', model: 'ae@1' }] : [],
              whatIf: whatIfValue === null ? undefined : { do: (c) => whatIfValue - c, internal_recycle: () => whatIfValue },
            };
            ctl.onWindow(window(t, s.quality, s.signals), extras);
          }
        }
        const last = new Map<string, SetpointMessage>();
        for (const sent of publisher.sent) {
          const msg = sent.payload as SetpointMessage;
          const loopId = sent.topic.split('/').pop() as LoopId;
          const loop = loops.find((l) => l.id === loopId);
          const prev = last.get(loopId);
          const broken =
            sent.kind !== 'setpoint' ? 'not a setpoint'
            : !loop ? `unknown loop ${loopId}`
            : !Number.isFinite(msg.value) ? 'non-finite value'
            : msg.value < loop.min || msg.value > loop.max ? `outside [${loop.min}, ${loop.max}]`
            : msg.validUntil !== msg.ts + control.validForSec * 1000 ? 'validUntil'
            : msg.mode === 'auto' && prev && Math.abs(msg.value - prev.value) > loop.maxStep + 1e-9 ? `step ${prev.value} -> ${msg.value}`
            : msg.mode === 'fallback' && msg.value !== loop.fallback ? 'fallback value'
            : prev && msg.ts <= prev.ts ? 'time went backwards'
            : undefined;
          if (broken) throw new Error(`${loopId}: ${broken} in ${JSON.stringify(msg)}`);
          modes[msg.mode]++;
          last.set(loopId, msg);
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 10_000) },
    );
    expect(sequences).toBeGreaterThanOrEqual(Number(process.env.RUNS ?? 10_000));
    // The sequences reach every mode, not just the fallback.
    expect(Math.min(modes.auto, modes.manual, modes.fallback)).toBeGreaterThan(100);
  });
});
