import type { AlarmEvent, AlarmRecord, AlarmState } from './types.js';

/**
 * The ISA-18.2 alarm state machine as a pure reducer. Returns the next record (undefined: no alarm yet)
 * and whether the state changed (a transition to record and publish).
 *
 *   normal/cleared --raise--> active_unack --ack--> active_ack --clear--> cleared
 *   active_unack --clear--> cleared_unack --ack--> cleared;  cleared_unack --raise--> active_unack
 *   any --shelve--> shelved --unshelve--> active_unack (condition present) | cleared
 * A shelved alarm keeps tracking its condition but announces nothing; acks on it are ignored.
 */
export function reduceAlarm(record: AlarmRecord | undefined, event: AlarmEvent): { record: AlarmRecord | undefined; changed: boolean; by: string | null } {
  const same = { record, changed: false, by: null };
  const to = (next: AlarmRecord, by: string | null = null): { record: AlarmRecord; changed: boolean; by: string | null } => ({
    record: next,
    changed: record === undefined || next.state !== record.state,
    by,
  });
  switch (event.type) {
    case 'raise': {
      const c = event.condition;
      if (!record) {
        return to({ id: c.id, severity: c.severity, stage: c.stage, signal: c.signal, message: c.message, state: 'active_unack', conditionActive: true, raisedAt: event.ts, updatedAt: event.ts });
      }
      const described = { ...record, severity: c.severity, stage: c.stage, signal: c.signal, message: c.message, conditionActive: true };
      if (record.state === 'shelved') return { record: described, changed: false, by: null };
      if (record.state === 'active_unack' || record.state === 'active_ack') {
        return { record: { ...described, state: record.state }, changed: false, by: null };
      }
      return to({ ...described, state: 'active_unack', raisedAt: event.ts, clearedAt: undefined, ackedBy: undefined, updatedAt: event.ts });
    }
    case 'clear': {
      if (!record || !record.conditionActive) return same;
      const next = { ...record, conditionActive: false, ...(event.message !== undefined ? { message: event.message } : {}) };
      if (record.state === 'active_unack') return to({ ...next, state: 'cleared_unack', clearedAt: event.ts, updatedAt: event.ts });
      if (record.state === 'active_ack') return to({ ...next, state: 'cleared', clearedAt: event.ts, updatedAt: event.ts });
      return { record: { ...next, clearedAt: record.state === 'shelved' ? event.ts : record.clearedAt }, changed: false, by: null };
    }
    case 'ack': {
      if (!record) return same;
      const acked = { ...record, ackedBy: event.by, updatedAt: event.ts };
      if (record.state === 'active_unack') return to({ ...acked, state: 'active_ack' }, event.by);
      if (record.state === 'cleared_unack') return to({ ...acked, state: 'cleared' }, event.by);
      return same;
    }
    case 'shelve': {
      if (!record) return same;
      const next = { ...record, state: 'shelved' as AlarmState, shelvedUntil: event.until, shelvedBy: event.by, updatedAt: event.ts };
      // Re-shelving extends the expiry without a new transition.
      if (record.state === 'shelved') return { record: next, changed: false, by: null };
      return to(next, event.by);
    }
    case 'unshelve': {
      if (!record || record.state !== 'shelved') return same;
      const base = { ...record, shelvedUntil: undefined, shelvedBy: undefined, updatedAt: event.ts };
      if (record.conditionActive) return to({ ...base, state: 'active_unack', raisedAt: event.ts, ackedBy: undefined, clearedAt: undefined });
      return to({ ...base, state: 'cleared' });
    }
  }
}

/** True for states an operator should see as standing alarms. */
export const isStanding = (state: AlarmState): boolean => state === 'active_unack' || state === 'active_ack' || state === 'cleared_unack';
