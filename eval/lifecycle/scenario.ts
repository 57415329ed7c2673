/**
 * The model lifecycle end to end on the twin, through MQTT: the built daemon as a child process with shipped
 * bundles active and retraining in the background switched on, and `wwtp-edge sim` as the plant, whose water
 * cools by several degC over days (temperature_change, src/sim/faults.ts: nitrification slows, aerobic NH4
 * climbs). What the daemon does about it is read only from the outside: the retained `edge/models`, its
 * `/metrics`, its log and, once it stopped, its SQLite file.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import type { ModelLiveMessage, ModelsMessage } from '../../src/contract/topics.js';
import { binPath, LOCAL_DAEMON_ENV, repoRoot, startDaemon, type DaemonProcess } from '../../test/helpers/daemon.js';

export interface ScenarioOptions {
  /** Plant days the twin runs. */
  readonly days: number;
  /** Plant day the water starts to cool. */
  readonly changeDay: number;
  /** degC (negative: colder) and how long the water takes to get there, days. */
  readonly deltaC: number;
  readonly rampDays: number;
  /** Twin plant seconds per wall second. */
  readonly speed: number;
  /** Shipped bundles made active (folder names under models/). */
  readonly models: readonly string[];
  readonly seed: number;
  /** Extra daemon environment (lifecycle keys). */
  readonly env?: Readonly<Record<string, string>>;
  readonly site?: string;
  /** Further faults of the twin's scenario, YAML flow mappings (`{ kind: sensor_bias, ... }`). */
  readonly faults?: readonly string[];
  /** Called with every `edge/models` message: what the evaluation does to the daemon from the outside. */
  readonly onModels?: (m: ModelsMessage, run: RunningScenario) => void;
  /** Progress lines (stderr). */
  readonly log?: (line: string) => void;
}

/** The running daemon's files, for interventions from the outside. */
export interface RunningScenario {
  readonly dir: string;
  readonly modelsDir: string;
  readonly store: string;
  /** The twin's plant time at its start (approximate). */
  readonly startPlantMs: () => number;
  readonly log: (line: string) => void;
}

/** One model event as seen on `edge/models`, with the plant time of the message that carried it. */
export interface SeenEvent {
  readonly model: string;
  readonly event: string;
  readonly reason: string;
  readonly wallMs: number;
  readonly plantTs: number | null;
}

export interface ModelEventStored {
  readonly ts: number;
  readonly model: string;
  readonly event: string;
  readonly by: string;
  readonly previous: string | null;
  readonly reason: string;
  readonly detail: string;
}

/** Window-to-setpoint latencies, as the daemon's histogram counts them, over an interval. */
export interface LatencyShare {
  readonly windows: number;
  /** Share of windows whose setpoints went out within 20 ms (p99 < 20 ms when at least 0.99). */
  readonly within20ms: number;
  readonly within10ms: number;
}

export interface ScenarioResult {
  readonly dir: string;
  /** The daemon's SQLite file, kept after the run. */
  readonly store: string;
  readonly startPlantMs: number;
  readonly changePlantMs: number;
  readonly events: readonly SeenEvent[];
  readonly stored: readonly ModelEventStored[];
  /** Every `edge/models` message, in order. */
  readonly messages: readonly ModelsMessage[];
  readonly latency: { readonly training: LatencyShare; readonly idle: LatencyShare };
  readonly logs: readonly string[];
  readonly simExit: number | null;
}

const BUCKET_RE = /^wwtp_edge_window_to_setpoint_seconds_bucket\{le="([^"]+)"\} (\d+)/;

/** The histogram's cumulative counts at le=0.01, le=0.02 and +Inf. */
async function latencyCounts(httpPort: number): Promise<{ le10: number; le20: number; all: number } | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const out = { le10: 0, le20: 0, all: 0 };
    for (const line of text.split('\n')) {
      const m = BUCKET_RE.exec(line);
      if (!m) continue;
      if (m[1] === '0.01') out.le10 = Number(m[2]);
      if (m[1] === '0.02') out.le20 = Number(m[2]);
      if (m[1] === '+Inf') out.all = Number(m[2]);
    }
    return out;
  } catch {
    return undefined;
  }
}

const share = (d: { le10: number; le20: number; all: number }): LatencyShare => ({
  windows: d.all,
  within20ms: d.all > 0 ? d.le20 / d.all : Number.NaN,
  within10ms: d.all > 0 ? d.le10 / d.all : Number.NaN,
});

/** Whether a retraining child runs, from the daemon's log (it logs each start and each result), read on from where it stopped. */
function trainingWatch(logs: readonly string[]): () => boolean {
  let read = 0;
  let running = 0;
  return () => {
    for (; read < logs.length; read += 1) {
      const line = logs[read] ?? '';
      if (line.includes('in the background (')) running += 1;
      else if (/"component":"retrain"/.test(line) && /(candidate|gate|failed|made no candidate)/.test(line) && running > 0) running -= 1;
    }
    return running > 0;
  };
}

export async function runLifecycleScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const site = o.site ?? 'lc1';
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-lifecycle-'));
  const modelsDir = join(dir, 'models');
  for (const name of o.models) cpSync(join(repoRoot, 'models', name), join(modelsDir, name), { recursive: true });
  const scenario = join(dir, 'cooling.yaml');
  const faults = [`{ kind: temperature_change, stage: aerobic, start: ${o.changeDay}d, end: 10000d, magnitude: ${o.deltaC}, ramp: ${o.rampDays}d }`, ...(o.faults ?? [])];
  writeFileSync(scenario, `faults:\n${faults.map((f) => `  - ${f}\n`).join('')}`);
  const db = join(dir, 'edge.sqlite');
  const daemon: DaemonProcess = await startDaemon({
    ...LOCAL_DAEMON_ENV,
    WWTP_EDGE_SITE: site,
    WWTP_EDGE_STORAGE__PATH: db,
    WWTP_EDGE_MODELS__ENABLED: 'true',
    WWTP_EDGE_MODELS__DIR: modelsDir,
    WWTP_EDGE_MODELS__LIFECYCLE__PUBLISH_SEC: '1',
    WWTP_EDGE_MODELS__LIFECYCLE__SCHEDULE__ENABLED: 'false',
    WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__ENABLED: 'false',
    WWTP_EDGE_MODELS__LIFECYCLE__FALSE_ALARMS__ENABLED: 'false',
    WWTP_EDGE_MODELS__LIFECYCLE__RETRAIN__ENABLED: 'true',
    ...o.env,
  }, ['run'], 60_000);
  const messages: ModelsMessage[] = [];
  const events: SeenEvent[] = [];
  const lastSeen = new Map<string, string>();
  // The twin's clock ends at the wall clock's now: it starts its days before the wall time it will end at.
  const daysMs = o.days * 86_400_000;
  let simStarted = Date.now();
  const running: RunningScenario = { dir, modelsDir, store: db, log, startPlantMs: () => simStarted + daysMs / o.speed - daysMs };
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { reconnectPeriod: 0 });
  watcher.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as ModelsMessage;
    messages.push(m);
    for (const x of m.models) {
      const e = x.lastEvent;
      if (!e) continue;
      const key = `${e.ts}|${e.event}|${e.reason}`;
      if (lastSeen.get(x.model) === key) continue;
      lastSeen.set(x.model, key);
      events.push({ model: x.model, event: e.event, reason: e.reason, wallMs: Date.now(), plantTs: m.plantTs });
      log(`${m.plantTs ? new Date(m.plantTs).toISOString() : '-'} ${x.model} ${e.event}: ${e.reason}`);
    }
    o.onModels?.(m, running);
  });
  await watcher.subscribeAsync(`wwtp/${site}/edge/models`, { qos: 1 });

  // Latency while a retraining child runs, against the rest, from the histogram's deltas.
  const training = { le10: 0, le20: 0, all: 0 };
  const idle = { le10: 0, le20: 0, all: 0 };
  const trainingRunning = trainingWatch(daemon.logs);
  let previous = await latencyCounts(daemon.httpPort);
  const poll = setInterval(() => {
    void latencyCounts(daemon.httpPort).then((now) => {
      if (!now || !previous) return void (previous = now ?? previous);
      const into = trainingRunning() ? training : idle;
      into.le10 += now.le10 - previous.le10;
      into.le20 += now.le20 - previous.le20;
      into.all += now.all - previous.all;
      previous = now;
    });
  }, 1_000);

  simStarted = Date.now();
  const sim = spawn(process.execPath, [binPath, 'sim', '--broker', `mqtt://127.0.0.1:${daemon.mqttPort}`, '--site', site, '--days', String(o.days), '--speed', String(o.speed), '--scenario', scenario, '--seed', String(o.seed)], {
    cwd: repoRoot,
    env: { ...process.env, WWTP_EDGE_LOG__LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const simErr: string[] = [];
  sim.stderr?.on('data', (b: Buffer) => simErr.push(b.toString()));
  const simExit = await new Promise<number | null>((resolve) => sim.once('exit', (code) => resolve(code)));
  if (simExit !== 0) log(`sim exited ${simExit}: ${simErr.join('').slice(-2000)}`);
  clearInterval(poll);
  await watcher.endAsync(true);
  daemon.child.kill('SIGTERM');
  await daemon.exited();

  writeFileSync(join(dir, 'daemon.log'), `${daemon.logs.join('\n')}\n`);
  const local = new Database(db, { readonly: true });
  const stored = local.prepare('SELECT ts, model, event, "by", previous, reason, detail FROM model_events ORDER BY seq').all() as ModelEventStored[];
  local.close();
  // The twin's plant clock ends at the wall clock's now when it exits.
  const endPlant = messages.at(-1)?.plantTs ?? Date.now();
  const startPlantMs = endPlant - o.days * 86_400_000;
  return {
    dir,
    store: db,
    startPlantMs,
    changePlantMs: startPlantMs + o.changeDay * 86_400_000,
    events,
    stored,
    messages,
    latency: { training: share(training), idle: share(idle) },
    logs: daemon.logs,
    simExit,
  };
}

/** The last figures of a model version on `edge/models`. */
export function lastFigures(messages: readonly ModelsMessage[], model: string): ModelLiveMessage | undefined {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const found = messages[i]?.models.find((m) => m.model === model);
    if (found) return found;
  }
  return undefined;
}
