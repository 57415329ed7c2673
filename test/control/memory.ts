import { Aedes } from 'aedes';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AlarmCondition, AlarmSink, HmiCommand, Publisher, StateStore, TableWriter } from '../../src/contract/ports.js';
import { createControl, type SetpointHistory } from '../../src/control/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { isLoop } from '../../src/contract/plant.js';
import type { HistoryTable, TableRows } from '../../src/contract/rows.js';
import { alarmAck, alarmShelve, loopMode, OUT_OPTIONS, outTopic, type OutKind, type OutTopics } from '../../src/contract/topics.js';
import { controlSchema, type ControlConfig } from '../../src/config/sections/control.js';
import { alarmsSchema, type AlarmsConfig } from '../../src/config/sections/alarms.js';
import { signalsSchema, type SignalConfig } from '../../src/config/sections/plant.js';
import type { Clock } from '../../src/lib/clock.js';

/** Durable-looking state: values go through JSON as they would through SQLite. */
export class MemoryStateStore implements StateStore {
  readonly data = new Map<string, string>();
  getState<T>(key: string): T | undefined {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  setState(key: string, value: unknown): void {
    this.data.set(key, JSON.stringify(value));
  }
}

/** Rows per table, keeping the natural-key idempotence of the real store out of scope. */
export class MemoryTables implements TableWriter {
  readonly rows: { [K in Exclude<HistoryTable, 'readings'>]: TableRows[K][] } = {
    windows: [],
    indicators: [],
    predictions: [],
    anomalies: [],
    shadow_outputs: [],
    model_events: [],
    alarm_events: [],
    setpoints: [],
    operator_actions: [],
  };
  insert<T extends Exclude<HistoryTable, 'readings'>>(table: T, rows: readonly TableRows[T][]): void {
    (this.rows[table] as TableRows[T][]).push(...rows);
  }
}

export interface Sent {
  readonly kind: OutKind;
  readonly topic: string;
  readonly payload: unknown;
}

/** Publisher that records what it was asked to publish (topic built by the shared topic map). */
export class RecordingPublisher implements Publisher {
  readonly sent: Sent[] = [];
  constructor(private readonly site = 'test') {}
  publish<K extends OutKind>(kind: K, params: OutTopics[K]['params'], payload: OutTopics[K]['payload']): void {
    this.sent.push({ kind, topic: outTopic(this.site, kind, params), payload });
  }
}

/** A clock the test moves by hand; timers fire when it passes their due time. */
export class ManualClock implements Clock {
  private t: number;
  private timers: { due: number; every?: number; fn: () => void; live: boolean }[] = [];
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.timers.filter((x) => x.live && x.due <= end).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.t = next.due;
      if (next.every !== undefined) next.due += next.every;
      else next.live = false;
      next.fn();
    }
    this.t = end;
  }
  setTimeout(fn: () => void, ms: number): { clear(): void } {
    const timer = { due: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { clear: () => (timer.live = false) };
  }
  setInterval(fn: () => void, ms: number): { clear(): void } {
    const timer = { due: this.t + ms, every: ms, fn, live: true };
    this.timers.push(timer);
    return { clear: () => (timer.live = false) };
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const defaults = parse(readFileSync(`${root}config/default.yaml`, 'utf8')) as { control: unknown; alarms: unknown; signals: unknown };

/** The shipped default config's sections. */
export function defaultControl(): ControlConfig {
  return controlSchema.parse(defaults.control);
}
export function defaultAlarms(overrides: Partial<AlarmsConfig> = {}): AlarmsConfig {
  return { ...alarmsSchema.parse(defaults.alarms), ...overrides };
}
export function defaultSignals(): SignalConfig[] {
  return signalsSchema.parse(defaults.signals);
}

/** An embedded aedes broker on a free port, and a Publisher that publishes into it. */
export async function startBroker(site: string): Promise<{ url: string; broker: Aedes; server: Server; publisher: Publisher; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const publisher: Publisher = {
    publish(kind, params, payload) {
      const { qos, retain } = OUT_OPTIONS[kind];
      const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
      broker.publish({ cmd: 'publish', topic: outTopic(site, kind, params), payload: Buffer.from(body), qos, retain, dup: false }, () => undefined);
    },
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    server,
    publisher,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => broker.close(() => resolve()));
      }),
  };
}

/**
 * The minimal HMI command path: decodes `wwtp/{site}/hmi/...` with the contract's zod schemas into
 * HmiCommands (ts: receive time). Undecodable messages give undefined.
 */
export function decodeHmi(site: string, topic: string, payload: Buffer, ts: number): HmiCommand | undefined {
  const levels = topic.split('/');
  if (levels[0] !== 'wwtp' || levels[1] !== site || levels[2] !== 'hmi') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const [, , , what, id, action] = levels;
  if (what === 'alarms' && id && action === 'ack') {
    const r = alarmAck.safeParse(body);
    return r.success ? { kind: 'alarm_ack', alarmId: id, by: r.data.by, comment: r.data.comment, ts } : undefined;
  }
  if (what === 'alarms' && id && action === 'shelve') {
    const r = alarmShelve.safeParse(body);
    return r.success ? { kind: 'alarm_shelve', alarmId: id, by: r.data.by, minutes: r.data.minutes, comment: r.data.comment, ts } : undefined;
  }
  if (what === 'loops' && id && isLoop(id) && action === 'mode') {
    const r = loopMode.safeParse(body);
    return r.success ? { kind: 'loop_mode', loop: id, mode: r.data.mode, value: r.data.value, by: r.data.by, ts } : undefined;
  }
  return undefined;
}

/** Collects every message an MQTT client receives; `next` waits for one that matches. */
export class Inbox {
  readonly messages: { topic: string; payload: string; retain: boolean }[] = [];
  private waiters: { match: (m: { topic: string; payload: string }) => boolean; resolve: (m: { topic: string; payload: string; retain: boolean }) => void }[] = [];
  push(topic: string, payload: Buffer, retain: boolean): void {
    const m = { topic, payload: payload.toString('utf8'), retain };
    this.messages.push(m);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(m)) return true;
      w.resolve(m);
      return false;
    });
  }
  next(match: (m: { topic: string; payload: string }) => boolean): Promise<{ topic: string; payload: string; retain: boolean }> {
    const found = this.messages.find(match);
    if (found) {
      this.messages.splice(this.messages.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve) =>
      this.waiters.push({
        match,
        resolve: (m) => {
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m);
        },
      }),
    );
  }
}

/** Alarm sink that keeps the conditions raised and not cleared. */
export class RecordingAlarms implements AlarmSink {
  readonly active = new Map<string, AlarmCondition>();
  raise(condition: AlarmCondition): void {
    this.active.set(condition.id, condition);
  }
  clear(id: string): void {
    this.active.delete(id);
  }
}

/** Control of site plant1 with the default loops on memory fakes and a clock at `now`. */
export function controlFixture(options: { state?: MemoryStateStore; history?: SetpointHistory; now: number }) {
  const publisher = new RecordingPublisher('plant1');
  const tables = new MemoryTables();
  const alarms = new RecordingAlarms();
  const state = options.state ?? new MemoryStateStore();
  const clock = new ManualClock(options.now);
  const config = defaultControl();
  const control = createControl({ config, site: 'plant1', publisher, tables, state, alarms, logger: silentLogger(), clock, history: options.history });
  return { publisher, tables, alarms, control, clock, state, config };
}
