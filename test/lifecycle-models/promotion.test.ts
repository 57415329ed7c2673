import { describe, expect, it } from 'vitest';
import type { AlarmCondition, PlantWindow } from '../../src/contract/ports.js';
import type { ModelActivationEvent, WindowOutcome } from '../../src/inference/index.js';
import type { ShadowRole } from '../../src/inference/registry.js';
import type { LoadedModel } from '../../src/inference/session.js';
import { lifecycleSchema } from '../../src/config/sections/lifecycle.js';
import { createPromoter, PROMOTION_STATE_KEY } from '../../src/lifecycle/promotion.js';
import type { JudgedPrediction } from '../../src/lifecycle/tracker.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MemoryStateStore } from '../control/memory.js';

const NAME = 'predict-aerobic';
const W = 300_000;
const T0 = Date.UTC(2026, 10, 2);
const KEY = 'aerobic.no3_n@15';

/** The registry as the promoter sees it: one active version per name, its history, the shadow slots. */
class FakeRegistry {
  history: string[] = ['v1'];
  readonly slots = new Map<string, string>();
  readonly events: ModelActivationEvent[] = [];
  onActivation: (e: ModelActivationEvent) => void = () => undefined;

  private model(version: string): LoadedModel {
    return { name: NAME, version, id: `${NAME}@${version}`, dir: `/models/${NAME}/${version}`, kind: 'predictor' } as unknown as LoadedModel;
  }
  private swap(version: string, action: ModelActivationEvent['action'], reason: string, previous = this.history.at(-1) ?? null): ModelActivationEvent {
    const event: ModelActivationEvent = { ts: 0, name: NAME, version, previous, action, by: 'daemon', reason };
    this.events.push(event);
    this.onActivation(event);
    return event;
  }
  readonly inference = {
    loaded: (): LoadedModel[] => [this.model(this.history.at(-1) ?? 'v1')],
    startShadow: (name: string, version: string, _dir: string, role: ShadowRole = 'candidate'): Promise<LoadedModel> => {
      if (this.history.at(-1) === version) return Promise.reject(new Error(`${version} is the active version`));
      this.slots.set(role, version);
      return Promise.resolve(this.model(version));
    },
    stopShadow: (_name: string, role: ShadowRole = 'candidate'): void => {
      this.slots.delete(role);
    },
    promote: (_name: string, version: string, reason: string, role: ShadowRole = 'candidate'): Promise<ModelActivationEvent> => {
      if (this.slots.get(role) !== version) return Promise.reject(new Error(`${version} is not in shadow`));
      this.slots.delete(role);
      const event = this.swap(version, 'promote', reason);
      this.history.push(version);
      return Promise.resolve(event);
    },
    rollback: (_name: string, reason?: string): Promise<ModelActivationEvent> => {
      const from = this.history.pop() ?? null;
      return Promise.resolve(this.swap(this.history.at(-1) ?? 'v1', 'rollback', reason ?? '', from));
    },
  };
}

function setup(registry = new FakeRegistry(), state = new MemoryStateStore()) {
  const alarms: AlarmCondition[] = [];
  const config = lifecycleSchema.parse({ shadow: { hours: 1, minSamples: 6 }, rollback: { hours: 1, minSamples: 6, watchHours: 24 } });
  const promoter = createPromoter({
    config, inference: registry.inference, state, logger: silentLogger(), now: () => T0,
    alarms: { raise: (c) => alarms.push(c), clear: () => undefined },
    onShadow: () => undefined, onRejection: () => undefined,
  });
  registry.onActivation = (e) => promoter.onActivation(e);
  let i = 0;
  /** Windows in which each version's 15-min forecast of nitrate is off by `errors[version]` (persistence by 0.5). */
  const feed = (windows: number, errors: Record<string, number>, failing?: string): void => {
    for (const end = i + windows; i < end; i += 1) {
      const plant: PlantWindow = { start: T0 + i * W - W, end: T0 + i * W, stages: {} };
      const measured = 10 + Math.sin(i / 5);
      const judged: JudgedPrediction[] = Object.entries(errors).map(([version, error]) => ({
        model: `${NAME}@${version}`, key: KEY, dueMs: plant.end, predicted: measured + (i % 2 === 0 ? error : -error), measured, persistence: measured + 0.5,
      }));
      const failures = failing ? [{ name: NAME, model: `${NAME}@${failing}`, error: 'output not finite' }] : [];
      const outcome = { anomalies: [], untrusted: [], predictions: [], skipped: [], failures, shadow: { predictions: [], anomalies: [], failures: [] } } as unknown as WindowOutcome;
      promoter.onWindow(plant, outcome, judged);
    }
  };
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { registry, alarms, state, promoter, feed, settle };
}

describe('the watch of a version an automatic rollback restored', () => {
  it('gives way to the version rolled back from when the restored one turns out the worse, once', async () => {
    const { registry, alarms, promoter, feed, settle } = setup();
    await promoter.start();
    promoter.offer({ name: NAME, version: 'v2', dir: `/candidates/${NAME}/v2`, kind: 'predictor', stage: 'aerobic', by: 'test', reason: 'retrained' });
    await settle();
    // v2 better than v1 over the shadow hour: promoted, v1 beside it
    feed(14, { v1: 1, v2: 0.2 });
    await settle();
    expect(registry.history).toEqual(['v1', 'v2']);
    expect(registry.slots.get('previous')).toBe('v1');

    // v2 degrades beside v1: rolled back; v2 now runs beside the restored v1
    feed(8, { v1: 1, v2: 3 });
    await settle();
    expect(registry.history).toEqual(['v1']);
    expect(registry.events.at(-1)?.action).toBe('rollback');
    expect(registry.slots.get('previous')).toBe('v2');
    expect(alarms.at(-1)?.message).toMatch(/^predict-aerobic@v2 rolled back to v1: /);

    // the stretch passes, both as before: v1 stays (it is not worse than v2 was before the rollback)
    feed(12, { v1: 1, v2: 0.2 });
    await settle();
    expect(registry.history).toEqual(['v1']);

    // v1 degrades far below what v2 did before the rollback and below v2 beside it: the rollback is reversed
    feed(10, { v1: 6, v2: 0.2 });
    await settle();
    expect(registry.history).toEqual(['v1', 'v2']);
    expect(registry.events.at(-1)).toMatchObject({ action: 'promote', version: 'v2', reason: expect.stringMatching(/^the rollback from v2 to v1 reversed: aerobic\.no3_n@15: live MSE skill -\d+\.\d+ .* before the rollback/) as string });
    expect(alarms.at(-1)?.message).toMatch(/^predict-aerobic@v1 rolled back to v2: the rollback from v2 to v1 reversed: /);
    // no further watch: nothing runs beside v2, and v2 going bad now rolls nothing back
    expect(registry.slots.has('previous')).toBe(false);
    feed(14, { v2: 5 });
    await settle();
    expect(registry.history).toEqual(['v1', 'v2']);
    await promoter.stop();
  });

  it('keeps the restored version watched across a restart', async () => {
    const registry = new FakeRegistry();
    const state = new MemoryStateStore();
    const first = setup(registry, state);
    await first.promoter.start();
    first.promoter.offer({ name: NAME, version: 'v2', dir: `/candidates/${NAME}/v2`, kind: 'predictor', stage: 'aerobic', by: 'test', reason: 'retrained' });
    await first.settle();
    first.feed(14, { v1: 1, v2: 0.2 });
    await first.settle();
    first.feed(8, { v1: 1, v2: 3 });
    await first.settle();
    await first.promoter.stop();
    const saved = state.getState<{ watches: { version: string; previous: string; restores?: boolean }[] }>(PROMOTION_STATE_KEY);
    expect(saved?.watches).toEqual([expect.objectContaining({ version: 'v1', previous: 'v2', restores: true })]);
    registry.slots.clear();
    const again = setup(registry, state);
    await again.promoter.start();
    await again.settle();
    expect(registry.slots.get('previous')).toBe('v2');
  });

  it('starts no watch after a rollback for failed runs', async () => {
    const { registry, promoter, feed, settle } = setup();
    await promoter.start();
    promoter.offer({ name: NAME, version: 'v2', dir: `/candidates/${NAME}/v2`, kind: 'predictor', stage: 'aerobic', by: 'test', reason: 'retrained' });
    await settle();
    feed(14, { v1: 1, v2: 0.2 });
    await settle();
    feed(1, { v1: 1 }, 'v2');
    await settle();
    expect(registry.history).toEqual(['v1']);
    expect(registry.events.at(-1)?.reason).toMatch(/^failed at inference 1 window in a row/);
    expect(registry.slots.has('previous')).toBe(false);
    await promoter.stop();
  });
});
