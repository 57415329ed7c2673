import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/schema.js';
import { judgedAlarms, type JudgedAlarm } from '../../src/models/store-data.js';
import { alarmLeadMs, episodeOf, falseAlarmWeight, MAX_FALSE_ALARM_WEIGHT, stageVerdicts } from '../../src/models/verdicts.js';
import { tempDir } from '../helpers/daemon.js';

const T = Date.UTC(2024, 2, 5, 10);
const MIN = 60_000;

describe("operators' verdicts as a detector's labels", () => {
  it('groups alarm events into judged episodes, a verdict given after the clear included', () => {
    const path = join(tempDir('wwtp-verdicts-unit-'), 'store.sqlite');
    const db = new Database(path);
    migrate(db, 1);
    const insert = db.prepare("INSERT INTO alarm_events (alarm_id, ts, state, severity, stage, signal, message, by, verdict) VALUES (?, ?, ?, 'medium', ?, NULL, 'm', ?, ?)");
    // judged while active
    insert.run('anomaly.aerobic', T, 'active_unack', 'aerobic', null, null);
    insert.run('anomaly.aerobic', T + 10 * MIN, 'active_ack', 'aerobic', 'op', 'false_alarm');
    insert.run('anomaly.aerobic', T + 40 * MIN, 'cleared', 'aerobic', null, null);
    // never judged
    insert.run('anomaly.aerobic', T + 120 * MIN, 'active_unack', 'aerobic', null, null);
    insert.run('anomaly.aerobic', T + 130 * MIN, 'cleared_unack', 'aerobic', null, null);
    // judged after the clear
    insert.run('anomaly.aerobic', T + 300 * MIN, 'active_unack', 'aerobic', null, null);
    insert.run('anomaly.aerobic', T + 390 * MIN, 'cleared_unack', 'aerobic', null, null);
    insert.run('anomaly.aerobic', T + 400 * MIN, 'cleared', 'aerobic', 'op', 'confirmed');
    // another alarm of the stage, still open
    insert.run('sensor.aerobic.do.flatline', T + 500 * MIN, 'active_unack', 'aerobic', null, null);
    insert.run('sensor.aerobic.do.flatline', T + 501 * MIN, 'active_ack', 'aerobic', 'op', 'confirmed');
    db.close();
    const judged = judgedAlarms(path, {});
    expect(judged.map((a) => [a.alarmId, a.start, a.end, a.verdict])).toEqual([
      ['anomaly.aerobic', T, T + 40 * MIN, 'false_alarm'],
      ['anomaly.aerobic', T + 300 * MIN, T + 390 * MIN, 'confirmed'],
      ['sensor.aerobic.do.flatline', T + 500 * MIN, Number.MAX_SAFE_INTEGER, 'confirmed'],
    ]);
  });

  it("a false alarm is the stage's own detector alarm; a confirmed event any plant alarm of the stage; windows from the condition's start to the clear", () => {
    const alarm = (alarmId: string, stage: string, start: number, end: number, verdict: JudgedAlarm['verdict']): JudgedAlarm => ({ alarmId, stage, start, end, verdict });
    const alarms = [
      alarm('anomaly.aerobic', 'aerobic', T, T + 30 * MIN, 'false_alarm'),
      alarm('limit.aerobic.do', 'aerobic', T + 60 * MIN, T + 90 * MIN, 'false_alarm'),
      alarm('sensor.aerobic.do.flatline', 'aerobic', T + 120 * MIN, T + 150 * MIN, 'confirmed'),
      alarm('model.predict-aerobic', 'aerobic', T + 200 * MIN, T + 210 * MIN, 'confirmed'),
      alarm('anomaly.anoxic', 'anoxic', T, T + 30 * MIN, 'false_alarm'),
    ];
    const { falseAlarms, confirmed } = stageVerdicts(alarms, 'aerobic');
    expect(falseAlarms.map((a) => a.alarmId)).toEqual(['anomaly.aerobic']);
    expect(confirmed.map((a) => a.alarmId)).toEqual(['sensor.aerobic.do.flatline']);
    // 60 s on-delay plus a 5-minute slide before the raise; up to (not including) the clear
    const lead = alarmLeadMs({ windows: { slideSec: 300 }, alarms: { onDelaySec: 60 } });
    expect(lead).toBe(6 * MIN);
    expect(episodeOf(T - 5 * MIN, falseAlarms, lead)?.alarmId).toBe('anomaly.aerobic');
    expect(episodeOf(T - 10 * MIN, falseAlarms, lead)).toBeUndefined();
    expect(episodeOf(T + 25 * MIN, falseAlarms, lead)?.alarmId).toBe('anomaly.aerobic');
    expect(episodeOf(T + 30 * MIN, falseAlarms, lead)).toBeUndefined();
  });

  it('repeats false-alarm windows so that they weigh a tenth of the network rows, once at least and at most 20 times', () => {
    expect(falseAlarmWeight(0, 2000)).toBe(0);
    expect(falseAlarmWeight(24, 2068)).toBe(10);
    expect(falseAlarmWeight(500, 2000)).toBe(1);
    expect(falseAlarmWeight(2, 100_000)).toBe(MAX_FALSE_ALARM_WEIGHT);
  });
});
