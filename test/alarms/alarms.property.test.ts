import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAlarms, type Alarms } from '../../src/alarms/index.js';
import { alarmMessage } from '../../src/contract/topics.js';
import { silentLogger } from '../../src/lib/logger.js';
import { defaultAlarms, defaultSignals, ManualClock, MemoryStateStore, MemoryTables, RecordingPublisher } from '../control/memory.js';

const NEXT: Record<string, readonly string[]> = {
  none: ['active_unack'],
  active_unack: ['active_ack', 'cleared_unack', 'shelved'],
  active_ack: ['cleared', 'shelved'],
  cleared_unack: ['cleared', 'active_unack', 'shelved'],
  cleared: ['active_unack', 'shelved'],
  shelved: ['active_unack', 'cleared'],
};

type Op =
  | { op: 'raise' | 'clear'; id: number; dt: number }
  | { op: 'ack' | 'shelve'; id: number; minutes: number }
  | { op: 'wait'; ms: number }
  | { op: 'restart' };

const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'flood'];
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom<'raise' | 'clear'>('raise', 'clear'), id: fc.nat(5), dt: fc.integer({ min: -60_000, max: 300_000 }) }),
  fc.record({ op: fc.constantFrom<'ack' | 'shelve'>('ack', 'shelve'), id: fc.nat(6), minutes: fc.double({ min: 0.1, max: 2000, noNaN: true }) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3_600_000 }) }),
  fc.constant({ op: 'restart' as const }),
);

describe('alarms (property)', () => {
  it('every transition follows the ISA-18.2 graph and every published state is a valid alarm message', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (ops, floodLimit) => {
        const state = new MemoryStateStore();
        const tables = new MemoryTables();
        const publisher = new RecordingPublisher('p');
        const clock = new ManualClock(1_700_000_000_000);
        const logger = silentLogger();
        let republished = 0;
        const make = (): Alarms => {
          const made = createAlarms({ config: defaultAlarms({ floodLimit, floodWindowSec: 600 }), site: 'p', signals: defaultSignals(), publisher, tables, state, logger, clock });
          // start restores the persisted states and republishes them (retained) without new events
          const before = publisher.sent.length;
          void made.start();
          republished += publisher.sent.length - before;
          return made;
        };
        let alarms = make();
        let t = clock.now();
        for (const o of ops) {
          if (o.op === 'restart') {
            void alarms.stop();
            alarms = make();
          }
          else if (o.op === 'wait') {
            clock.advance(o.ms);
            alarms.tick();
          } else if (o.op === 'raise' || o.op === 'clear') {
            t += o.dt;
            const id = ids[o.id]!;
            if (o.op === 'raise') alarms.sink.raise({ id, severity: 'low', stage: 'aerobic', message: id }, t);
            else alarms.sink.clear(id, t);
          } else if (o.op === 'ack' || o.op === 'shelve') {
            const alarmId = ids[o.id]!;
            if (o.op === 'ack') alarms.onCommand({ kind: 'alarm_ack', alarmId, by: 'op', ts: clock.now() });
            else alarms.onCommand({ kind: 'alarm_shelve', alarmId, by: 'op', minutes: o.minutes, ts: clock.now() });
          }
        }
        const last = new Map<string, string>();
        for (const row of tables.rows.alarm_events) {
          const from = last.get(row.alarmId) ?? 'none';
          if (!NEXT[from]!.includes(row.state)) throw new Error(`${row.alarmId}: ${from} -> ${row.state}`);
          last.set(row.alarmId, row.state);
        }
        for (const sent of publisher.sent) alarmMessage.parse(sent.payload);
        void alarms.stop();
        expect(publisher.sent.length - republished).toBe(tables.rows.alarm_events.length);
        for (const a of alarms.list().alarms) expect(a.state).toBe(last.get(a.id));
      }),
      { numRuns: 2000 },
    );
  });
});
