import { describe, expect, it } from 'vitest';
import { reduceAlarm } from '../../src/alarms/reducer.js';
import type { AlarmEvent, AlarmRecord } from '../../src/alarms/types.js';
import type { AlarmCondition } from '../../src/contract/ports.js';

const condition: AlarmCondition = { id: 'limit.aerobic.do', severity: 'high', stage: 'aerobic', signal: 'do', message: 'DO low' };
const raise = (ts: number): AlarmEvent => ({ type: 'raise', condition, ts });
const clear = (ts: number): AlarmEvent => ({ type: 'clear', ts });
const ack = (ts: number): AlarmEvent => ({ type: 'ack', by: 'op', ts });
const shelve = (ts: number, until: number): AlarmEvent => ({ type: 'shelve', by: 'op', until, ts });
const unshelve = (ts: number): AlarmEvent => ({ type: 'unshelve', ts });

function run(events: AlarmEvent[]): { record: AlarmRecord | undefined; states: string[] } {
  let record: AlarmRecord | undefined;
  const states: string[] = [];
  for (const e of events) {
    const r = reduceAlarm(record, e);
    record = r.record;
    if (r.changed && record) states.push(record.state);
  }
  return { record, states };
}

describe('alarm state machine (ISA-18.2)', () => {
  it('a clear with a message takes its text; a clear without one keeps the raised text', () => {
    expect(run([raise(1), { type: 'clear', ts: 2, message: 'back to normal' }]).record).toMatchObject({ state: 'cleared_unack', message: 'back to normal' });
    expect(run([raise(1), clear(2)]).record).toMatchObject({ state: 'cleared_unack', message: 'DO low' });
  });
  it('normal -> active_unack on raise', () => {
    const { record, states } = run([raise(1)]);
    expect(states).toEqual(['active_unack']);
    expect(record).toMatchObject({ raisedAt: 1, conditionActive: true, severity: 'high', stage: 'aerobic', signal: 'do' });
  });
  it('active_unack -> active_ack on ack, recording who', () => {
    const { record, states } = run([raise(1), ack(2)]);
    expect(states).toEqual(['active_unack', 'active_ack']);
    expect(record?.ackedBy).toBe('op');
  });
  it('active_ack -> cleared when the condition goes', () => {
    const { record, states } = run([raise(1), ack(2), clear(3)]);
    expect(states).toEqual(['active_unack', 'active_ack', 'cleared']);
    expect(record?.clearedAt).toBe(3);
  });
  it('active_unack -> cleared_unack when the condition goes unacknowledged, -> cleared on ack', () => {
    const { states } = run([raise(1), clear(2), ack(3)]);
    expect(states).toEqual(['active_unack', 'cleared_unack', 'cleared']);
  });
  it('cleared_unack -> active_unack when the condition returns', () => {
    const { record, states } = run([raise(1), clear(2), raise(3)]);
    expect(states).toEqual(['active_unack', 'cleared_unack', 'active_unack']);
    expect(record).toMatchObject({ raisedAt: 3, clearedAt: undefined });
  });
  it('cleared -> active_unack on a new raise, forgetting the old ack', () => {
    const { record, states } = run([raise(1), ack(2), clear(3), raise(4)]);
    expect(states).toEqual(['active_unack', 'active_ack', 'cleared', 'active_unack']);
    expect(record?.ackedBy).toBeUndefined();
  });
  it('repeated raises, clears and acks change nothing', () => {
    const { states } = run([raise(1), raise(2), ack(3), ack(4), raise(5), clear(6), clear(7), ack(8)]);
    expect(states).toEqual(['active_unack', 'active_ack', 'cleared']);
  });
  it('clear, ack, shelve and unshelve of an unknown alarm do nothing', () => {
    expect(run([clear(1), ack(2), shelve(3, 10), unshelve(4)]).record).toBeUndefined();
  });
  it('any state -> shelved; shelved tracks the condition silently; unshelve with the condition present -> active_unack', () => {
    const { record, states } = run([raise(1), shelve(2, 100), clear(3), raise(4), ack(5), unshelve(100)]);
    expect(states).toEqual(['active_unack', 'shelved', 'active_unack']);
    expect(record?.shelvedUntil).toBeUndefined();
  });
  it('shelved with the condition gone -> cleared on unshelve', () => {
    const { states } = run([raise(1), ack(2), shelve(3, 50), clear(4), unshelve(50)]);
    expect(states).toEqual(['active_unack', 'active_ack', 'shelved', 'cleared']);
  });
  it('shelving again extends the expiry without a transition', () => {
    const { record, states } = run([raise(1), shelve(2, 50), shelve(3, 80)]);
    expect(states).toEqual(['active_unack', 'shelved']);
    expect(record?.shelvedUntil).toBe(80);
  });
  it('cleared_unack and cleared can be shelved too', () => {
    expect(run([raise(1), clear(2), shelve(3, 9)]).states).toEqual(['active_unack', 'cleared_unack', 'shelved']);
    expect(run([raise(1), ack(2), clear(3), shelve(4, 9)]).states).toEqual(['active_unack', 'active_ack', 'cleared', 'shelved']);
  });
});
