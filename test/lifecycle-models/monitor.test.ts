import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lifecycleSchema } from '../../src/config/sections/lifecycle.js';
import type { PlantWindow, SignalFeatures } from '../../src/contract/ports.js';
import type { AnomalyRow, PredictionRow } from '../../src/contract/rows.js';
import type { ModelsMessage } from '../../src/contract/topics.js';
import { loadVerifiedModel, type LoadedModel } from '../../src/inference/session.js';
import { createModelLifecycle, heldOutFor } from '../../src/lifecycle/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { repoRoot } from '../helpers/daemon.js';
import { ManualClock, MemoryStateStore, MemoryTables, RecordingPublisher } from '../control/memory.js';

const W = 300_000;
const T0 = Date.UTC(2026, 10, 2);
const feat = (v: number): SignalFeatures => ({ mean: v, last: v, min: v - 0.05, max: v + 0.05, slope: 0, count: 5, filled: 0, stale: false, gappy: false });

let models: LoadedModel[] = [];
beforeAll(async () => {
  models = await Promise.all(['predict-aerobic', 'anomaly-aerobic'].map((n) => loadVerifiedModel(join(repoRoot, 'models', n, '1.0.0'), { intraOpThreads: 1 })));
});
afterAll(async () => {
  for (const m of models) await m.session.release();
});

/** A window with every input of both models at its training centre, nitrate swinging. */
function windowAt(i: number): PlantWindow {
  const end = T0 + i * W;
  const stages: Record<string, { stage: string; start: number; end: number; quality: number; signals: Record<string, SignalFeatures> }> = {};
  for (const m of models) {
    m.inputs.forEach((input, j) => {
      const s = (stages[input.stage] ??= { stage: input.stage, start: end - W, end, quality: 1, signals: {} });
      const v = input.signal === 'no3_n' && input.stage === 'aerobic' ? 10 + Math.sin(i / 4) : (m.manifest.scaler.center[j] ?? 0);
      s.signals[input.signal] ??= feat(v);
    });
  }
  return { start: end - W, end, stages: stages as PlantWindow['stages'] };
}

function setup(state = new MemoryStateStore(), clock = new ManualClock(T0)) {
  const publisher = new RecordingPublisher('lc');
  const tables = new MemoryTables();
  const config = lifecycleSchema.parse({ publishSec: 60, skill: { minSamples: 5 }, newWindows: { windows: 20 }, drift: { enabled: false }, schedule: { days: 0.1 } });
  const lifecycle = createModelLifecycle({ config, publisher, tables, state, logger: silentLogger(), clock, models: () => models });
  const published = (): ModelsMessage[] => publisher.sent.filter((s) => s.kind === 'models').map((s) => s.payload as ModelsMessage);
  return { lifecycle, publisher, tables, state, clock, published };
}

function feed(lifecycle: ReturnType<typeof setup>['lifecycle'], from: number, to: number): void {
  for (let i = from; i < to; i += 1) {
    const plant = windowAt(i);
    const predictions: PredictionRow[] = [{ stage: 'aerobic', signal: 'no3_n', ts: plant.end, horizonMin: 15, value: 10 + Math.sin((i + 3) / 4) + 0.01, unit: 'mg/L', model: 'predict-aerobic@1.0.0' }];
    const anomalies: AnomalyRow[] = [{ stage: 'aerobic', ts: plant.end, score: i % 10 < 2 ? 200 : 10, threshold: 115, isAnomaly: i % 10 < 2, contributors: '[]', model: 'anomaly-aerobic@1.0.0' }];
    lifecycle.onWindow(plant, { predictions, anomalies });
  }
}

describe('held-out figures the skill trigger judges against', () => {
  it('takes the most specific key the manifest has', () => {
    const metrics = { 'mape.aerobic.no3_n@+60m': 4, 'mape.no3_n': 5, mapeMax: 9, r2Min: 0.7, 'r2.no3_n': 0.9 };
    expect(heldOutFor(metrics, 'mape', 'aerobic.no3_n@60')).toBe(4);
    expect(heldOutFor(metrics, 'mape', 'aerobic.no3_n@15')).toBe(5);
    expect(heldOutFor(metrics, 'mape', 'aerobic.nh4_n@15')).toBe(9);
    expect(heldOutFor(metrics, 'r2', 'aerobic.no3_n@15')).toBe(0.9);
    expect(heldOutFor({ validationLoss: 1 }, 'r2', 'aerobic.no3_n@15')).toBeUndefined();
  });
});

describe('model lifecycle component', () => {
  it('publishes live skill and detector counts, records a trigger once while it fires, and keeps it all across a restart', async () => {
    const { lifecycle, tables, clock, published, state } = setup();
    await lifecycle.start();
    // loaded at start before any window: its time on the site counts from the first window's end
    lifecycle.onActivation({ ts: T0, name: 'predict-aerobic', version: '1.0.0', previous: null, action: 'initial', by: 'daemon' });
    feed(lifecycle, 0, 40);
    lifecycle.onVerdict({ alarmId: 'anomaly.aerobic', stage: 'aerobic', verdict: 'false_alarm', ts: T0 + 5 * W });
    lifecycle.onVerdict({ alarmId: 'anomaly.aerobic', stage: 'aerobic', verdict: 'confirmed', ts: T0 + 15 * W });
    // a verdict on another alarm of the stage is not the detector's
    lifecycle.onVerdict({ alarmId: 'stale.aerobic.do', stage: 'aerobic', verdict: 'false_alarm', ts: T0 + 15 * W });
    clock.advance(60_000);
    clock.advance(60_000);
    clock.advance(60_000);
    const last = published().at(-1);
    expect(last?.plantTs).toBe(T0 + 39 * W);
    const predictor = last?.models.find((m) => m.model === 'predict-aerobic@1.0.0');
    // 15 minutes = 3 windows: the first 37 predictions came due
    expect(predictor?.skill['aerobic.no3_n@15']?.['24h'].n).toBe(37);
    // the forecast is one step of the swing ahead (plus 0.01): far better than persistence
    expect(predictor?.skill['aerobic.no3_n@15']?.['24h'].mseSkill).toBeGreaterThan(0.9);
    const detector = last?.models.find((m) => m.model === 'anomaly-aerobic@1.0.0')?.detector;
    expect(detector?.['1d']).toEqual({ windows: 40, flagged: 8, flagRate: 0.2, flagsPerDay: 4, confirmed: 1, falseAlarms: 1 });
    expect(predictor?.triggers.map((t) => t.trigger).sort()).toEqual(['new_windows', 'schedule']);
    // four publishes, one row: the triggers that start firing together (195 min on the site against a
    // 0.1-day schedule, 40 windows against 20), not one row per publish; the bundle's training in 2025 does not count
    const triggers = tables.rows.model_events.filter((r) => r.event === 'trigger' && r.model === 'predict-aerobic@1.0.0');
    expect(triggers.map((t) => t.reason)).toEqual([
      'retraining requested: active on this site for 0.1 days (schedule 0.1 days); retraining requested: 40 new windows since training (threshold 20)',
    ]);
    expect(last?.models.find((m) => m.model === 'anomaly-aerobic@1.0.0')?.triggers.map((t) => t.trigger)).not.toContain('schedule');
    expect(predictor?.lastEvent).toMatchObject({ event: 'trigger', by: 'daemon' });
    await lifecycle.stop();

    const again = setup(state, clock);
    await again.lifecycle.start();
    const restored = again.published().at(-1);
    expect(restored?.plantTs).toBe(T0 + 39 * W);
    expect(restored?.models.find((m) => m.model === 'predict-aerobic@1.0.0')?.skill).toEqual(predictor?.skill);
    expect(restored?.models.find((m) => m.model === 'anomaly-aerobic@1.0.0')?.detector).toEqual(last?.models.find((m) => m.model === 'anomaly-aerobic@1.0.0')?.detector);
    // the triggers that fired before the restart are not recorded again
    expect(again.tables.rows.model_events).toHaveLength(0);
    // loaded again at the restart: its time on the site and its new windows go on (both triggers still fire)
    again.lifecycle.onActivation({ ts: T0 + 40 * W, name: 'predict-aerobic', version: '1.0.0', previous: null, action: 'initial', by: 'daemon' });
    expect(again.published().at(-1)?.models.find((m) => m.model === 'predict-aerobic@1.0.0')?.triggers.map((t) => t.trigger).sort()).toEqual(['new_windows', 'schedule']);
    expect(again.tables.rows.model_events.map((r) => r.event)).toEqual(['activation']);
    await again.lifecycle.stop();
  });

  it('counts a detector\'s own flags, not the sensor checks that flag its stage whatever the version', async () => {
    const { lifecycle, clock, published } = setup();
    await lifecycle.start();
    for (let i = 0; i < 40; i += 1) {
      const plant = windowAt(i);
      const own = i % 10 < 2;
      // windows 5 and 6 of every 10: a sensor check on the stage (the row is anomalous, the model's score is not)
      const sensor = i % 10 === 5 || i % 10 === 6;
      const anomalies: AnomalyRow[] = [{ stage: 'aerobic', ts: plant.end, score: own ? 200 : 10, threshold: 115, isAnomaly: own || sensor, modelFlag: own, contributors: '[]', model: 'anomaly-aerobic@1.0.0', verdict: 'scored' }];
      lifecycle.onWindow(plant, { predictions: [], anomalies });
    }
    clock.advance(60_000);
    const detector = published().at(-1)?.models.find((m) => m.model === 'anomaly-aerobic@1.0.0')?.detector;
    expect(detector?.['1d']).toMatchObject({ windows: 40, flagged: 8, flagRate: 0.2 });
    await lifecycle.stop();
  });

  it('asks for a version again while its triggers keep firing, retryDays of plant time after the last request, and not while a candidate of it runs in shadow', async () => {
    const publisher = new RecordingPublisher('lc');
    const tables = new MemoryTables();
    const clock = new ManualClock(T0);
    const config = lifecycleSchema.parse({ publishSec: 60, skill: { enabled: false }, drift: { enabled: false }, schedule: { enabled: false }, falseAlarms: { enabled: false }, newWindows: { windows: 10 }, retrain: { retryDays: 0.1 } });
    let shadowing: LoadedModel[] = [];
    const lifecycle = createModelLifecycle({ config, publisher, tables, state: new MemoryStateStore(), logger: silentLogger(), clock, models: () => models, shadows: () => shadowing });
    const asked: { model: string; at: number; triggers: string[] }[] = [];
    let plantNow = T0;
    lifecycle.onRetrainingRequested((r) => asked.push({ model: r.id, at: plantNow, triggers: r.triggers.map((t) => t.trigger) }));
    await lifecycle.start();
    const step = (from: number, to: number): void => {
      for (let i = from; i < to; i += 1) {
        feed(lifecycle, i, i + 1);
        plantNow = T0 + i * W;
        clock.advance(60_000);
      }
    };
    // 0.1 day = 28.8 windows: requested at the 10th window (index 9), again 29 windows later, and again
    step(0, 70);
    const predictor = asked.filter((a) => a.model === 'predict-aerobic@1.0.0');
    expect(predictor.map((a) => Math.round((a.at - T0) / W))).toEqual([9, 38, 67]);
    expect(predictor.every((a) => a.triggers.join() === 'new_windows')).toBe(true);
    const rows = tables.rows.model_events.filter((r) => r.event === 'trigger' && r.model === 'predict-aerobic@1.0.0');
    expect(rows).toHaveLength(3);
    expect(rows[1]?.reason).toMatch(/^still firing 0\.1 days after the last request: retraining requested: \d+ new windows since training \(threshold 10\)$/);
    // a candidate of it in shadow: not asked again until the shadow run ended
    shadowing = [{ ...models[0]!, id: 'predict-aerobic@2.0.0', version: '2.0.0' } as LoadedModel];
    step(70, 130);
    expect(asked.filter((a) => a.model === 'predict-aerobic@1.0.0')).toHaveLength(3);
    shadowing = [];
    step(130, 131);
    expect(asked.filter((a) => a.model === 'predict-aerobic@1.0.0')).toHaveLength(4);
    await lifecycle.stop();
  });

  it('records activations, rollbacks and gate refusals, listing the versions they retired', async () => {
    const { lifecycle, tables, published } = setup();
    await lifecycle.start();
    lifecycle.onActivation({ ts: T0, name: 'predict-aerobic', version: '1.0.0', previous: '0.9.0', action: 'rollback', by: 'cli' });
    lifecycle.onRefusal({ ts: T0 + 1, name: 'predict-aerobic', version: '1.1.0', reason: 'reference outputs differ by 1e-1', by: 'daemon' });
    expect(tables.rows.model_events.filter((r) => r.event !== 'trigger').map((r) => [r.model, r.event, r.by, r.previous, r.reason])).toEqual([
      ['predict-aerobic@1.0.0', 'rollback', 'cli', '0.9.0', 'rolled back from 0.9.0 to 1.0.0'],
      ['predict-aerobic@1.1.0', 'gate', 'daemon', null, 'gate failed: reference outputs differ by 1e-1'],
    ]);
    const states = Object.fromEntries((published().at(-1)?.models ?? []).map((m) => [m.model, m.state]));
    expect(states).toEqual({ 'predict-aerobic@1.0.0': 'active', 'anomaly-aerobic@1.0.0': 'active', 'predict-aerobic@0.9.0': 'rolled_back', 'predict-aerobic@1.1.0': 'rejected' });
    await lifecycle.stop();
  });
});
