import { describe, expect, it } from 'vitest';
import type { RecommendationMessage } from '../../src/contract/topics.js';
import { healthyPlant, steady } from '../control/helpers.js';
import { controlFixture } from '../control/memory.js';

/** Advisory mode in control: recommendations instead of setpoints, decisions, fallback, withdrawal. */
const T = 1_700_000_000_000;
const W = 300_000;

function setup() {
  const { publisher, tables, alarms, control, clock } = controlFixture({ now: T });
  const recs = (): RecommendationMessage[] => publisher.sent.filter((s) => s.topic === 'wwtp/plant1/aerobic/recommendation/do').map((s) => s.payload as RecommendationMessage);
  const doSetpoints = () => tables.rows.setpoints.filter((r) => r.loop === 'do');
  return { publisher, tables, alarms, control, clock, recs, doSetpoints };
}

describe('advisory mode', () => {
  it('recommends instead of publishing; an accepted recommendation becomes the setpoint within the step limit', () => {
    const { control, recs, doSetpoints } = setup();
    control.onWindow(healthyPlant(T));
    const before = doSetpoints().length;
    control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'advisory', by: 'op', ts: T + 1 });
    // ammonium far above target: the loop would raise DO, by one step at most
    control.onWindow(healthyPlant(T + W, { 'aerobic/nh4_n': steady(9) }));
    expect(doSetpoints()).toHaveLength(before);
    const pending = recs().at(-1);
    expect(pending).toMatchObject({ status: 'pending', mode: 'auto', unit: 'mg/L', ts: T + W });
    const last = doSetpoints().at(-1)!.value;
    expect(pending!.value).toBeCloseTo(Math.min(last + 0.5, 3), 9);
    expect(pending!.whatIf?.outlet).toEqual({ stage: 'aerobic', signal: 'nh4_n', unit: 'mg/L' });
    expect(control.snapshot()['do']).toMatchObject({ mode: 'advisory', pending: { value: pending!.value } });
    const row = control.onCommand({ kind: 'loop_decision', loop: 'do', accept: true, by: 'op', comment: 'ok', ts: T + W + 10 });
    expect(row).toMatchObject({ loop: 'do', mode: 'auto', value: pending!.value });
    expect(row!.reason).toMatch(/^accepted by op: /);
    expect(JSON.parse(row!.inputs)).toMatchObject({ recommended: pending!.value, recommendedAt: T + W });
    expect(recs().at(-1)).toMatchObject({ status: 'accepted', decidedBy: 'op', decidedAt: T + W + 10, comment: 'ok' });
    expect(control.snapshot()['do']?.pending).toBeUndefined();
    // nothing is pending any more: a second decision changes nothing
    expect(control.onCommand({ kind: 'loop_decision', loop: 'do', accept: true, by: 'op', ts: T + W + 20 })).toBeUndefined();
  });

  it('a rejected recommendation publishes no setpoint; stale inputs give a fallback recommendation and its alarm', () => {
    const { control, recs, doSetpoints, alarms } = setup();
    control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'advisory', by: 'op', ts: T - 1 });
    control.onWindow(healthyPlant(T));
    expect(control.onCommand({ kind: 'loop_decision', loop: 'do', accept: false, by: 'op', ts: T + 5 })).toBeUndefined();
    expect(recs().at(-1)?.status).toBe('rejected');
    control.onWindow(healthyPlant(T + W, { 'aerobic/nh4_n': steady(3, { stale: true }) }));
    expect(recs().at(-1)).toMatchObject({ status: 'pending', mode: 'fallback', value: 2 });
    expect(alarms.active.has('fallback.do')).toBe(true);
    expect(doSetpoints()).toHaveLength(0);
  });

  it('leaving advisory withdraws the pending recommendation', () => {
    const { control, recs } = setup();
    control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'advisory', by: 'op', ts: T - 1 });
    control.onWindow(healthyPlant(T));
    control.onCommand({ kind: 'loop_mode', loop: 'do', mode: 'auto', by: 'op2', ts: T + 5 });
    expect(recs().at(-1)).toMatchObject({ status: 'withdrawn', decidedBy: 'op2' });
    expect(control.snapshot()['do']).toMatchObject({ mode: 'auto' });
    expect(control.snapshot()['do']?.pending).toBeUndefined();
  });
});
