import { describe, expect, it } from 'vitest';
import { createAlarms, FLOOD_ALARM_ID } from '../../src/alarms/index.js';
import type { AlarmsConfig } from '../../src/config/sections/alarms.js';
import type { AlarmMessage } from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { healthyPlant, steady } from '../control/helpers.js';
import { defaultAlarms, defaultSignals, ManualClock, MemoryStateStore, MemoryTables, RecordingPublisher } from '../control/memory.js';

const T = 1_700_000_000_000;
const cond = (id: string) => ({ id, severity: 'medium' as const, stage: 'aerobic' as const, message: id });

function setup(overrides: Partial<AlarmsConfig> = {}, state = new MemoryStateStore(), clock = new ManualClock(T)) {
  const publisher = new RecordingPublisher('plant1');
  const tables = new MemoryTables();
  const alarms = createAlarms({ config: defaultAlarms(overrides), site: 'plant1', signals: defaultSignals(), publisher, tables, state, logger: silentLogger(), clock });
  const stateOf = (id: string) => alarms.list().alarms.find((a) => a.id === id)?.state;
  return { alarms, publisher, tables, state, clock, stateOf };
}

describe('alarms', () => {
  it('waits onDelaySec before raising and offDelaySec before clearing; a chattering condition never raises', () => {
    const { alarms, stateOf, tables, publisher } = setup({ onDelaySec: 60, offDelaySec: 120 });
    // Chatter: on/off every 30 s never holds for 60 s.
    for (let i = 0; i < 10; i++) {
      alarms.sink.raise(cond('anomaly.aerobic'), T + i * 60_000);
      alarms.sink.clear('anomaly.aerobic', T + i * 60_000 + 30_000);
    }
    expect(stateOf('anomaly.aerobic')).toBeUndefined();
    const t0 = T + 3_600_000;
    alarms.sink.raise(cond('anomaly.aerobic'), t0);
    alarms.sink.raise(cond('anomaly.aerobic'), t0 + 30_000);
    expect(stateOf('anomaly.aerobic')).toBeUndefined();
    alarms.sink.raise(cond('anomaly.aerobic'), t0 + 60_000);
    expect(stateOf('anomaly.aerobic')).toBe('active_unack');
    alarms.sink.clear('anomaly.aerobic', t0 + 120_000);
    alarms.sink.clear('anomaly.aerobic', t0 + 200_000);
    expect(stateOf('anomaly.aerobic')).toBe('active_unack');
    alarms.sink.clear('anomaly.aerobic', t0 + 240_000);
    expect(stateOf('anomaly.aerobic')).toBe('cleared_unack');
    expect(tables.rows.alarm_events.map((r) => [r.alarmId, r.state, r.ts])).toEqual([
      ['anomaly.aerobic', 'active_unack', t0 + 60_000],
      ['anomaly.aerobic', 'cleared_unack', t0 + 240_000],
    ]);
    expect(publisher.sent.map((s) => s.topic)).toEqual(['wwtp/plant1/alarms/anomaly.aerobic', 'wwtp/plant1/alarms/anomaly.aerobic']);
  });

  it('raises after the on-delay on the clock alone when no further event arrives', async () => {
    const { alarms, stateOf, clock } = setup({ onDelaySec: 60 });
    await alarms.start();
    alarms.sink.raise(cond('anomaly.aerobic'), T);
    clock.advance(59_000);
    expect(stateOf('anomaly.aerobic')).toBeUndefined();
    clock.advance(2_000);
    expect(stateOf('anomaly.aerobic')).toBe('active_unack');
    await alarms.stop();
  });

  it('system alarms (storage, sync, model, fallback) go active and clear at once, during a flood too, and their text stays current', () => {
    const { alarms, stateOf, publisher, tables } = setup({ onDelaySec: 60, offDelaySec: 120, floodLimit: 2, floodWindowSec: 600 });
    for (let i = 0; i < 6; i++) {
      alarms.sink.raise(cond(`s${i}`), T + i * 1000);
      alarms.sink.raise(cond(`s${i}`), T + i * 1000 + 61_000);
    }
    expect(stateOf(FLOOD_ALARM_ID)).toBe('active_unack');
    expect(alarms.list().flood.active).toBe(true);
    const ids = ['storage.shedding', 'sync.lag.readings', 'model.effluent', 'fallback.do'];
    for (const id of ids) alarms.sink.raise({ ...cond(id), message: `${id} first` }, T + 70_000);
    for (const id of ids) expect(stateOf(id)).toBe('active_unack');
    // The flood counted none of them.
    expect(alarms.list().flood.suppressed).toBe(4);
    const before = publisher.sent.length;
    alarms.sink.raise({ ...cond('storage.shedding'), severity: 'critical', message: 'storage.shedding second' }, T + 71_000);
    const latest = publisher.sent.slice(before).filter((s) => s.topic.endsWith('/alarms/storage.shedding'));
    expect(latest.map((s) => s.payload)).toMatchObject([{ state: 'active_unack', severity: 'critical', message: 'storage.shedding second' }]);
    expect(alarms.list().alarms.find((a) => a.id === 'storage.shedding')?.message).toBe('storage.shedding second');
    // A text change is no transition.
    expect(tables.rows.alarm_events.filter((r) => r.alarmId === 'storage.shedding')).toHaveLength(1);
    alarms.sink.clear('sync.lag.readings', T + 72_000);
    expect(stateOf('sync.lag.readings')).toBe('cleared_unack');
  });

  it('acks and shelving (capped by maxShelveMinutes) drive the lifecycle; shelving expires', () => {
    const { alarms, stateOf, clock, tables } = setup({ onDelaySec: 0, offDelaySec: 0, maxShelveMinutes: 30 });
    alarms.sink.raise(cond('a'), T);
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'a', by: 'op', ts: T });
    expect(stateOf('a')).toBe('active_ack');
    expect(alarms.list().alarms.find((x) => x.id === 'a')?.ackedBy).toBe('op');
    alarms.onCommand({ kind: 'alarm_shelve', alarmId: 'a', by: 'op', minutes: 600, ts: T });
    expect(stateOf('a')).toBe('shelved');
    clock.advance(29 * 60_000);
    alarms.tick();
    expect(stateOf('a')).toBe('shelved');
    clock.advance(2 * 60_000);
    alarms.tick();
    // Still present when the shelf expires: announced again, unacknowledged.
    expect(stateOf('a')).toBe('active_unack');
    expect(tables.rows.alarm_events.filter((r) => r.state === 'shelved')[0]?.by).toBe('op');
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'unknown', by: 'op', ts: T });
    expect(stateOf('unknown')).toBeUndefined();
  });

  it('flood: more than floodLimit new alarms in the window -> one flood alarm, the rest suppressed and counted, released later', () => {
    const { alarms, stateOf, clock, publisher } = setup({ onDelaySec: 0, offDelaySec: 0, floodLimit: 3, floodWindowSec: 600 });
    for (let i = 0; i < 10; i++) alarms.sink.raise(cond(`s${i}`), T + i * 1000);
    const raised = alarms.list().alarms.filter((a) => a.id !== FLOOD_ALARM_ID);
    expect(raised.map((a) => a.id).sort()).toEqual(['s0', 's1', 's2']);
    expect(stateOf(FLOOD_ALARM_ID)).toBe('active_unack');
    expect(alarms.list().flood).toMatchObject({ active: true, suppressed: 7 });
    // Suppressed conditions that go away are forgotten; the ones still present are released after the flood.
    for (const id of ['s6', 's7', 's8', 's9']) alarms.sink.clear(id, T + 20_000);
    clock.advance(11 * 60_000);
    alarms.tick();
    expect(stateOf(FLOOD_ALARM_ID)).toBe('cleared_unack');
    expect(alarms.list().flood.active).toBe(false);
    const afterFlood = alarms.list().alarms.filter((a) => a.state === 'active_unack').map((a) => a.id);
    expect(afterFlood).toContain('s3');
    expect(afterFlood).not.toContain('s9');
    expect(publisher.sent.filter((s) => s.topic.endsWith('/alarms/flood'))).toHaveLength(2);
  });

  it('a restart over the same StateStore keeps alarm states, acks, shelves and pending delays', async () => {
    const state = new MemoryStateStore();
    const first = setup({ onDelaySec: 60, offDelaySec: 0 }, state);
    first.alarms.sink.raise(cond('a'), T);
    first.alarms.sink.raise(cond('a'), T + 60_000);
    first.alarms.onCommand({ kind: 'alarm_ack', alarmId: 'a', by: 'op', ts: T });
    first.alarms.sink.raise(cond('b'), T + 60_000);
    first.alarms.sink.raise(cond('c'), T);
    first.alarms.sink.raise(cond('c'), T + 60_000);
    first.alarms.onCommand({ kind: 'alarm_shelve', alarmId: 'c', by: 'op', minutes: 10, ts: T });
    const before = first.alarms.list().alarms;

    const second = setup({ onDelaySec: 60, offDelaySec: 0 }, state, new ManualClock(T + 10_000));
    await second.alarms.start();
    await second.alarms.stop();
    expect(second.alarms.list().alarms).toEqual(before);
    expect(second.stateOf('a')).toBe('active_ack');
    expect(second.stateOf('c')).toBe('shelved');
    // b's on-delay started before the restart and completes after it.
    second.alarms.sink.raise(cond('b'), T + 120_000);
    expect(second.stateOf('b')).toBe('active_unack');
    second.alarms.sink.clear('a', T + 130_000);
    expect(second.stateOf('a')).toBe('cleared');
  });

  it('sensor source: stale signals and process limits with deadband', () => {
    const { alarms, stateOf } = setup({
      onDelaySec: 0,
      offDelaySec: 0,
      limits: [{ stage: 'aerobic', signal: 'nh4_n', high: 4, severity: 'high' }],
    });
    alarms.onWindow(healthyPlant(T, { 'aerobic/nh4_n': steady(5) }));
    expect(stateOf('limit.aerobic.nh4_n')).toBe('active_unack');
    // 3.9 is under the limit but inside the deadband (2 % of 0..200 mg/L = 4 mg/L): still active.
    alarms.onWindow(healthyPlant(T + 300_000, { 'aerobic/nh4_n': steady(3.9) }));
    expect(stateOf('limit.aerobic.nh4_n')).toBe('active_unack');
    alarms.onWindow(healthyPlant(T + 600_000, { 'aerobic/nh4_n': steady(-0.5), 'anoxic/no3_n': steady(1, { stale: true }) }));
    expect(stateOf('limit.aerobic.nh4_n')).toBe('cleared_unack');
    expect(stateOf('stale.anoxic.no3_n')).toBe('active_unack');
    const list = alarms.list().alarms as AlarmMessage[];
    expect(list.find((a) => a.id === 'stale.anoxic.no3_n')).toMatchObject({ stage: 'anoxic', signal: 'no3_n' });
    // A signal never seen does not raise stale; one seen before and now absent does.
    expect(stateOf('stale.effluent.tp')).toBeUndefined();
    alarms.onWindow(healthyPlant(T + 900_000, { 'membrane/tmp': steady(Number.NaN) }));
    const plant = healthyPlant(T + 1_200_000);
    const { tmp: _tmp, ...rest } = plant.stages.membrane!.signals;
    alarms.onWindow({ ...plant, stages: { ...plant.stages, membrane: { ...plant.stages.membrane!, signals: rest } } });
    expect(stateOf('stale.membrane.tmp')).toBe('active_unack');
  });

  it('predicted effluent limit breach raises predicted.effluent.<signal>', () => {
    const { alarms, stateOf } = setup({ onDelaySec: 0, offDelaySec: 0 });
    const prediction = (value: number, ts: number) => ({ stage: 'effluent' as const, signal: 'nh4_n', ts, horizonMin: 60, value, unit: 'mg/L', model: 'eff@2' });
    alarms.onWindow(healthyPlant(T), { predictions: [prediction(5.2, T)] });
    expect(stateOf('predicted.effluent.nh4_n')).toBe('active_unack');
    alarms.onWindow(healthyPlant(T + 300_000), { predictions: [prediction(3.9, T + 300_000)] });
    expect(stateOf('predicted.effluent.nh4_n')).toBe('active_unack');
    alarms.onWindow(healthyPlant(T + 600_000), { predictions: [prediction(2, T + 600_000)] });
    expect(stateOf('predicted.effluent.nh4_n')).toBe('cleared_unack');
  });
});
