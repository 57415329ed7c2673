import { describe, expect, it } from 'vitest';
import { SetpointHistory } from '../../src/control/index.js';
import type { SetpointMessage } from '../../src/contract/topics.js';
import { healthyPlant, steady } from './helpers.js';
import { controlFixture, MemoryStateStore } from './memory.js';

const T = 1_700_000_000_000;
const W = 300_000;

function setup(state = new MemoryStateStore(), history?: SetpointHistory, now = T) {
  const fixture = controlFixture({ state, history, now });
  const last = (loop: string): SetpointMessage => {
    const sent = fixture.publisher.sent.filter((s) => s.topic.endsWith(`/setpoint/${loop}`)).pop();
    if (!sent) throw new Error(`nothing published for ${loop}`);
    return sent.payload as SetpointMessage;
  };
  const { publisher, tables, alarms, control, config } = fixture;
  return { publisher, tables, alarms, control, state, config, last };
}

describe('control', () => {
  it('keeps every published setpoint in the history the models read, the one republished after a restart too', async () => {
    const history = new SetpointHistory();
    const first = setup(new MemoryStateStore(), history);
    first.control.onWindow(healthyPlant(T));
    first.control.onWindow(healthyPlant(T + W, { 'aerobic/nh4_n': steady(6) }));
    const published = (ts: number): number => first.tables.rows.setpoints.find((r) => r.loop === 'do' && r.ts === ts)!.value;
    expect(history.range('do', T, T)).toEqual({ min: published(T), max: published(T) });
    expect(history.range('do', T, T + W)).toEqual({ min: Math.min(published(T), published(T + W)), max: Math.max(published(T), published(T + W)) });
    // A new daemon on the same state: its history starts from the republished last setpoint.
    const after = new SetpointHistory();
    const second = setup(first.state, after);
    await second.control.start();
    expect(after.range('do', T + W, T + W + 60_000)).toEqual({ min: published(T + W), max: published(T + W) });
    expect(after.range('do', T, T + W)).toBeUndefined();
  });

  it('starts bumpless: with no setpoint of its own in effect, the first auto setpoint is one step from the measured feedback', () => {
    const { control, tables } = setup();
    const recycle = (ts: number): number => tables.rows.setpoints.find((r) => r.loop === 'internal_recycle' && r.ts === ts)!.value;
    // The PLC's nitrate loop runs the recycle at 1,266 m3/d; the policy asks for far more (anoxic NO3-N under its target).
    control.onWindow(healthyPlant(T, { 'anoxic/internal_recycle_flow': steady(1266) }));
    expect(recycle(T)).toBe(1266 + 15000);
    expect(tables.rows.setpoints.find((r) => r.loop === 'internal_recycle')!.reason).toMatch(/step limited/);
    // While its setpoint is in effect the step counts from it, whatever the pump reads.
    control.onWindow(healthyPlant(T + W, { 'anoxic/internal_recycle_flow': steady(1266) }));
    expect(recycle(T + W)).toBe(recycle(T) + 15000);
    // Two hours without a window: the setpoint expired (validUntil), the PLC is back on its local setpoint,
    // and the step counts from what the pump does now.
    const later = T + W + 2 * 3_600_000;
    control.onWindow(healthyPlant(later, { 'anoxic/internal_recycle_flow': steady(9000) }));
    expect(recycle(later)).toBe(9000 + 15000);
    // Without a feedback reading the last setpoint stays the origin, as before.
    const { control: bare, tables: bareTables } = setup();
    bare.onWindow(healthyPlant(T));
    expect(bareTables.rows.setpoints.find((r) => r.loop === 'internal_recycle')!.reason).not.toMatch(/step limited/);
  });

  it('publishes every loop on its stage topic, stores a row with reason and inputs, validUntil ahead', () => {
    const { control, publisher, tables, last } = setup();
    control.onWindow(healthyPlant(T));
    expect(publisher.sent.map((s) => s.topic).sort()).toEqual(
      [
        'wwtp/plant1/aerobic/setpoint/do',
        'wwtp/plant1/anoxic/setpoint/internal_recycle',
        'wwtp/plant1/anoxic/setpoint/carbon_dose',
        'wwtp/plant1/phosphorus/setpoint/coagulant_dose',
        'wwtp/plant1/membrane/setpoint/backwash_interval',
        'wwtp/plant1/secondary/setpoint/was_flow',
      ].sort(),
    );
    expect(last('do')).toMatchObject({ mode: 'auto', unit: 'mg/L', ts: T, validUntil: T + 900_000 });
    const row = tables.rows.setpoints.find((r) => r.loop === 'do')!;
    expect(row.reason).toContain('NH4-N');
    expect(JSON.parse(row.inputs)).toHaveProperty('nh4_n', 1.5);
  });

  it('stale inputs jump to the fallback and raise fallback.<loop>; healthy inputs clear it, step limited back', () => {
    const { control, alarms, last, config } = setup();
    const doLoop = config.loops.find((l) => l.id === 'do')!;
    control.onWindow(healthyPlant(T, { 'aerobic/nh4_n': steady(6) }));
    control.onWindow(healthyPlant(T + W, { 'aerobic/nh4_n': steady(6) }));
    const before = last('do').value;
    control.onWindow(healthyPlant(T + 2 * W, { 'aerobic/nh4_n': steady(6, { stale: true }) }));
    expect(last('do')).toMatchObject({ mode: 'fallback', value: doLoop.fallback });
    expect(last('do').reason).toContain('stale');
    expect(alarms.active.get('fallback.do')).toMatchObject({ stage: 'aerobic', severity: 'medium' });
    control.onWindow(healthyPlant(T + 3 * W, { 'aerobic/nh4_n': steady(0) }));
    expect(alarms.active.has('fallback.do')).toBe(false);
    expect(last('do').mode).toBe('auto');
    expect(Math.abs(last('do').value - doLoop.fallback)).toBeLessThanOrEqual(doLoop.maxStep);
    expect(before).not.toBe(doLoop.fallback);
  });

  it('an anomaly on a stage the loop reads forces the fallback', () => {
    const { control, last } = setup();
    control.onWindow(healthyPlant(T), { anomalies: [{ stage: 'anoxic', ts: T, score: 3, threshold: 1, isAnomaly: true, contributors: '[]', model: 'ae@1' }] });
    expect(last('internal_recycle').mode).toBe('fallback');
    expect(last('carbon_dose').mode).toBe('fallback');
    expect(last('do').mode).toBe('auto');
  });

  it('windows not newer than the last one are ignored', () => {
    const { control, publisher } = setup();
    control.onWindow(healthyPlant(T + W));
    const n = publisher.sent.length;
    control.onWindow(healthyPlant(T + W));
    control.onWindow(healthyPlant(T));
    expect(publisher.sent.length).toBe(n);
  });

  it('a window older than the last setpoint (an HMI command on a clock ahead of event time) still gets its setpoints', () => {
    // The daemon's clock (wall time) runs 10 windows ahead of the plant's readings (a replay, a sim behind it).
    const { control, last } = setup(new MemoryStateStore(), undefined, T + 10 * W);
    control.onWindow(healthyPlant(T));
    control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'manual', value: 2, by: 'anna', ts: T + 10 * W });
    control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'auto', by: 'anna', ts: T + 10 * W + 1000 });
    control.onWindow(healthyPlant(T + W));
    expect(last('do')).toMatchObject({ mode: 'auto', ts: T + 10 * W + 1001 });
    expect(last('do').reason).not.toMatch(/holding/);
    control.onWindow(healthyPlant(T + 2 * W));
    expect(last('do')).toMatchObject({ mode: 'auto', ts: T + 10 * W + 1002 });
    expect(last('do').reason).not.toMatch(/holding/);
  });

  it('a loop memory stamped far ahead of the clock (a previous run on another clock) does not silence the loop', () => {
    const state = new MemoryStateStore();
    const ahead = setup(state);
    ahead.control.onWindow(healthyPlant(T + 14 * 86_400_000));
    const { control, last } = setup(state);
    control.onWindow(healthyPlant(T + W));
    expect(last('do')).toMatchObject({ mode: 'auto', ts: T + W, validUntil: T + W + 900_000 });
    control.onWindow(healthyPlant(T + W));
    expect(last('do').ts).toBe(T + W);
  });

  it('manual mode wins, is clamped, survives a restart, and auto returns bumplessly', () => {
    const state = new MemoryStateStore();
    const first = setup(state);
    first.control.onWindow(healthyPlant(T));
    first.control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'manual', value: 9, by: 'anna', ts: T + 1000 });
    expect(first.last('do')).toMatchObject({ mode: 'manual', value: 3 });

    const second = setup(state);
    second.control.onWindow(healthyPlant(T + W, { 'aerobic/nh4_n': steady(0) }));
    expect(second.last('do')).toMatchObject({ mode: 'manual', value: 3 });
    expect(second.control.snapshot()['do']?.mode).toBe('manual');

    second.control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'auto', by: 'anna', ts: T + W + 1000 });
    second.control.onWindow(healthyPlant(T + 2 * W, { 'aerobic/nh4_n': steady(0) }));
    const auto = second.last('do');
    expect(auto.mode).toBe('auto');
    expect(auto.value).toBeCloseTo(2.5);
  });
});
