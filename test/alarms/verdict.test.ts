import { describe, expect, it } from 'vitest';
import { createAlarms, type AlarmVerdict } from '../../src/alarms/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { defaultAlarms, defaultSignals, ManualClock, MemoryStateStore, MemoryTables, RecordingPublisher } from '../control/memory.js';

const T = 1_700_000_000_000;
const cond = { id: 'anomaly.aerobic', severity: 'medium' as const, stage: 'aerobic' as const, message: 'aerobic: anomaly score 130 (threshold 115)' };

function setup() {
  const tables = new MemoryTables();
  const clock = new ManualClock(T);
  const alarms = createAlarms({ config: defaultAlarms({ onDelaySec: 0, offDelaySec: 0 }), site: 'plant1', signals: defaultSignals(), publisher: new RecordingPublisher('plant1'), tables, state: new MemoryStateStore(), logger: silentLogger(), clock });
  const verdicts: AlarmVerdict[] = [];
  alarms.onVerdict((v) => verdicts.push(v));
  return { alarms, tables, clock, verdicts };
}

describe("operators' verdicts on alarms", () => {
  it('keeps a verdict given with the ack on its alarm_events row and tells the listeners', () => {
    const { alarms, tables, verdicts } = setup();
    alarms.sink.raise(cond, T);
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'night-op', comment: 'blower test', verdict: 'false_alarm', ts: T + 5 });
    expect(tables.rows.alarm_events.map((r) => [r.state, r.by, r.verdict])).toEqual([
      ['active_unack', null, null],
      ['active_ack', 'night-op', 'false_alarm'],
    ]);
    expect(verdicts).toEqual([{ alarmId: 'anomaly.aerobic', stage: 'aerobic', verdict: 'false_alarm', ts: T, by: 'night-op' }]);
  });

  it('keeps a verdict given after the ack, after the clear too, as its own row: nothing the operator said is dropped', () => {
    const { alarms, tables, verdicts } = setup();
    alarms.sink.raise(cond, T);
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'day-op', ts: T + 1 });
    alarms.sink.clear('anomaly.aerobic', T + 60_000);
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'engineer', comment: 'NH4 analyzer drift confirmed by lab', verdict: 'confirmed', ts: T + 90_000 });
    // a second verdict at the same plant time still gets a key of its own
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'engineer', verdict: 'false_alarm', ts: T + 90_001 });
    const rows = tables.rows.alarm_events.map((r) => [r.state, r.ts, r.by, r.verdict, r.comment]);
    expect(rows).toEqual([
      ['active_unack', T, null, null, null],
      ['active_ack', T, 'day-op', null, null],
      ['cleared', T + 60_000, null, null, null],
      ['cleared', T + 60_001, 'engineer', 'confirmed', 'NH4 analyzer drift confirmed by lab'],
      ['cleared', T + 60_002, 'engineer', 'false_alarm', null],
    ]);
    expect(new Set(tables.rows.alarm_events.map((r) => `${r.alarmId}|${r.ts}|${r.state}`)).size).toBe(rows.length);
    expect(verdicts.map((v) => v.verdict)).toEqual(['confirmed', 'false_alarm']);
    expect(alarms.list().alarms[0]?.state).toBe('cleared');
  });

  it('an ack without a verdict on an acknowledged alarm adds nothing', () => {
    const { alarms, tables } = setup();
    alarms.sink.raise(cond, T);
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'a', ts: T });
    alarms.onCommand({ kind: 'alarm_ack', alarmId: 'anomaly.aerobic', by: 'b', ts: T });
    expect(tables.rows.alarm_events).toHaveLength(2);
  });
});
