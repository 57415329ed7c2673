import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { z } from 'zod';
import type { SignalConfig } from '../config/schema.js';
import { loadConfig } from '../config/load.js';
import { LOOP_IDS, isLoop, type LoopId } from '../contract/plant.js';
import { setpointMessage } from '../contract/topics.js';
import { createEngine, type LoopSetpoints } from './engine.js';
import { groundTruth, loadScenario, type Fault } from './faults.js';
import { SensorLayer } from './sensors.js';
import { generateInfluent } from './influent-gen.js';
import { bsm1Installed, defaultDataDir, stabilisedState, twinInfluent } from './simulate.js';

export const twinOptionsSchema = z.object({
  broker: z.string().min(1),
  site: z.string().min(1).default('demo'),
  influent: z.string().default('dry'),
  /** Plant seconds per wall second. */
  speed: z.number().positive().default(60),
  scenario: z.string().optional(),
  seed: z.number().int().default(1),
  /** Plant days to run; absent = until stopped (the weather file repeats every 14 d). */
  days: z.number().positive().optional(),
  lockstep: z.boolean().default(false),
  lockstepTimeoutMs: z.number().positive().default(10_000),
  /**
   * Plant minutes published past an interval's end before waiting for its setpoints: the daemon closes
   * a window once readings reach its end plus its allowed lateness (windows.allowedLatenessSec, 60 s).
   */
  lockstepLagMin: z.number().int().nonnegative().default(1),
  controlIntervalMin: z.number().int().positive().default(15),
  stabilise: z.boolean().default(true),
  /** Plant time of the start, epoch ms (default: now, rounded down to the minute). */
  epochMs: z.number().optional(),
  /** Where the run's fault ground truth (JSONL) is written. */
  truthFile: z.string().optional(),
  dataDir: z.string().optional(),
  clientId: z.string().optional(),
  /** 'full' (default): the nine stages of PRODUCT section 2; 'bsm1': the exact BSM1 plant. */
  plant: z.enum(['bsm1', 'full']).default('full'),
});
export type TwinOptions = z.input<typeof twinOptionsSchema> & {
  signals?: readonly SignalConfig[];
  faults?: readonly Fault[];
  /**
   * The plant clock (epoch ms) that paces the twin: plant minute m is published once the clock reaches
   * it. Absent: the plant starts at epochMs when publishing starts and runs at `speed`.
   */
  clock?: { now(): number };
};

export interface TwinStats { published: number; setpointsApplied: number; lockstepTimeouts: number; plantMinutes: number }

export interface Twin {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the run has covered its days (or was stopped). */
  finished(): Promise<void>;
  readonly stats: TwinStats;
}

interface HeldSetpoint { value: number; ts: number; validUntil: number; mode: 'auto' | 'manual' | 'fallback' }

/**
 * The plant twin over MQTT: publishes every configured signal as `wwtp/{site}/{stage}/{signal}`
 * `{"value","ts"}` in plant time, obeys supervisory setpoints through its PLC layer until their
 * `validUntil`, and in lockstep waits for the supervisor's answer after each control interval.
 */
export function createTwin(input: TwinOptions, onProgress?: (doneDays: number, totalDays: number) => void): Twin {
  const opts = twinOptionsSchema.parse(input);
  const stats: TwinStats = { published: 0, setpointsApplied: 0, lockstepTimeouts: 0, plantMinutes: 0 };
  const held = new Map<LoopId, HeldSetpoint>();
  const manualLoops = new Set<LoopId>();
  let client: MqttClient | undefined;
  let loop: Promise<void> = Promise.resolve();
  const stopper = new AbortController();
  let stopped: Promise<void> | undefined;

  function onMessage(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    if (parts[2] === 'hmi' && parts[3] === 'loops' && parts[5] === 'mode') {
      const id = parts[4] ?? '';
      if (!isLoop(id)) return;
      try {
        const mode = (JSON.parse(payload.toString()) as { mode?: string }).mode;
        if (mode === 'manual') manualLoops.add(id); else manualLoops.delete(id);
      } catch { /* a malformed mode message changes nothing */ }
      return;
    }
    const id = parts[4] ?? '';
    if (parts[3] !== 'setpoint' || !isLoop(id)) return;
    try {
      const sp = setpointMessage.parse(JSON.parse(payload.toString()));
      if (!Number.isFinite(sp.value)) return;
      held.set(id, { value: sp.value, ts: sp.ts, validUntil: sp.validUntil, mode: sp.mode });
      stats.setpointsApplied++;
    } catch { /* the PLC ignores setpoints it cannot read and keeps its own */ }
  }

  function activeLoops(nowMs: number): LoopSetpoints {
    const out: LoopSetpoints = {};
    for (const [id, sp] of held) if (sp.validUntil > nowMs) out[id] = sp.value;
    return out;
  }

  async function waitForSupervisor(endMs: number, signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + opts.lockstepTimeoutMs;
    const answered = (): boolean => LOOP_IDS.every((id) => manualLoops.has(id) || (held.get(id)?.ts ?? -Infinity) >= endMs);
    while (!answered()) {
      if (performance.now() > deadline) { stats.lockstepTimeouts++; return; }
      await sleep(2, undefined, { signal });
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    const dataDir = opts.dataDir ?? defaultDataDir();
    const faults = input.faults ?? (opts.scenario ? loadScenario(opts.scenario) : []);
    const epochMs = opts.epochMs ?? Math.floor(Date.now() / 60_000) * 60_000;
    if (opts.truthFile) writeFileSync(opts.truthFile, groundTruth(faults, epochMs).map((g) => JSON.stringify(g)).join('\n') + (faults.length ? '\n' : ''));
    const influent = twinInfluent(opts.influent, dataDir, opts.seed);
    const initial = opts.stabilise ? stabilisedState('closed', dataDir, false, opts.plant, bsm1Installed(dataDir) ? undefined : generateInfluent({ seed: 0, rainPerWeek: 0 })) : undefined;
    const engine = createEngine({ influent, seed: opts.seed, noise: true, ideal: false, control: 'closed', faults, initial, plant: opts.plant });
    const sensors = new SensorLayer(input.signals ?? loadConfig().signals, opts.seed, faults);
    const totalMin = opts.days === undefined ? Infinity : Math.round(opts.days * 1440);
    const wallStart = performance.now();
    const c = client!;
    const publish = (m: number): void => {
      const ts = epochMs + m * 60_000;
      for (const r of sensors.read(engine.truth, m)) {
        c.publish(`wwtp/${opts.site}/${r.stage}/${r.signal}`, JSON.stringify({ value: r.value, ts }));
        stats.published++;
      }
    };
    publish(0);
    for (let m = 1; m <= totalMin && !signal.aborted; m++) {
      engine.setLoops(activeLoops(epochMs + (m - 1) * 60_000));
      engine.tick();
      stats.plantMinutes = m;
      publish(m);
      if (m % 1440 === 0 && onProgress) onProgress(m / 1440, opts.days ?? Infinity);
      if (opts.lockstep) {
        const intervalEnd = m - opts.lockstepLagMin;
        if (intervalEnd > 0 && intervalEnd % opts.controlIntervalMin === 0) await waitForSupervisor(epochMs + intervalEnd * 60_000, signal);
      } else if (input.clock) {
        await untilClock(input.clock, epochMs + (m + 1) * 60_000, m, signal);
      } else {
        const wait = wallStart + (m * 60_000) / opts.speed - performance.now();
        if (wait > 0 || m % 60 === 0) await sleep(Math.max(0, wait), undefined, { signal });
      }
    }
  }

  /** Waits until the plant clock reaches the next minute; a twin behind its clock catches up at once. */
  async function untilClock(clock: { now(): number }, nextTs: number, m: number, signal: AbortSignal): Promise<void> {
    if (clock.now() >= nextTs) {
      if (m % 60 === 0) await sleep(0, undefined, { signal });
      return;
    }
    while (!signal.aborted && clock.now() < nextTs) {
      await sleep(Math.min(1000, Math.max(1, (nextTs - clock.now()) / opts.speed)), undefined, { signal });
    }
  }

  return {
    stats,
    async start(signal) {
      client = await mqtt.connectAsync(opts.broker, { clientId: opts.clientId ?? `wwtp-twin-${opts.seed}-${Math.random().toString(16).slice(2, 8)}`, clean: true, reconnectPeriod: 1000 });
      client.on('message', onMessage);
      await client.subscribeAsync([`wwtp/${opts.site}/+/setpoint/+`, `wwtp/${opts.site}/hmi/loops/+/mode`], { qos: 1 });
      const both = AbortSignal.any([signal, stopper.signal]);
      loop = run(both).catch((error: unknown) => {
        if (both.aborted) return;
        throw error;
      });
    },
    finished: () => loop,
    stop() {
      stopped ??= (async () => {
        stopper.abort();
        await loop.catch(() => undefined);
        if (client) await client.endAsync();
      })();
      return stopped;
    },
  };
}
