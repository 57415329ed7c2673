import { createRequire } from 'node:module';
import type { EdgeConfig } from './config/schema.js';
import type { PlantWindow } from './contract/ports.js';
import { createAlarms, sheddingClearedMessage, sheddingCondition, SHEDDING_ALARM_ID, type ShedTotals } from './alarms/index.js';
import { createBroker } from './broker/index.js';
import { createControl, SetpointHistory } from './control/index.js';
import { createIngest } from './ingest/index.js';
import { plantTopicFilter } from './mapping/pattern.js';
import { createInference, type ActiveOutcome } from './inference/index.js';
import { createHttpServer, type RouteHandler } from './http/server.js';
import { historyRequest } from './http/history.js';
import { systemClock, type Clock } from './lib/clock.js';
import { ComponentGroup, type Component } from './lib/lifecycle.js';
import type { Logger } from './lib/logger.js';
import { createMetrics, type Metrics } from './lib/metrics.js';
import { createPublisher } from './publish/publisher.js';
import { OUT_OPTIONS, outTopic } from './contract/topics.js';
import { createStatusReporter } from './status/status.js';
import { createStore } from './store/index.js';
import { createSync } from './sync/index.js';
import { createPlantPipeline } from './pipeline.js';
import { windowsOpenAtStop } from './windows/index.js';
import type { Publisher } from './contract/ports.js';
import { isLoop } from './contract/plant.js';
import { createHmi } from './hmi/index.js';
import { createReportRoute } from './http/report.js';
import { registerOperatorGauges } from './hmi/metrics.js';
import { createCommissioningLog } from './status/commissioning.js';
import { autoPromotes } from './config/sections/lifecycle.js';
import { createModelLifecycle, createPromoter, createRetrainer, registerLifecycleGauges } from './lifecycle/index.js';

export interface RuntimeDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metrics?: Metrics;
  readonly version?: string;
  /** After each plant window went through models and control, with ms since it closed. */
  readonly onWindowProcessed?: (plant: PlantWindow, latencyMs: number) => void;
}

export interface Runtime {
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  /** Actual bound ports (0 in config = a free port). */
  ports(): { mqtt: number; ws: number | undefined; http: number };
  readonly metrics: Metrics;
  /** Resolves once every window closed so far went through models and control. */
  idle(): Promise<void>;
}

const NOT_READY_WHY: Record<string, string> = {
  broker: 'the MQTT broker is not connected (external) or not listening (embedded)',
  store: 'the SQLite store is not writable (disk full or read-only)',
  models: 'models.enabled but no model bundle is active (none in models.dir, or every one refused; see the model lines above)',
};

/** HTTPS from the embedded broker's certificate files when http.tls is 'broker'. */
function httpTls(config: Readonly<EdgeConfig>): { certFile: string; keyFile: string; caFile?: string | undefined } | undefined {
  if (config.http.tls === 'off') return undefined;
  const tls = config.broker.embedded.tls;
  if (!tls) throw new Error("http.tls is 'broker' but broker.embedded.tls names no certificate files");
  return { certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile };
}

/** How long stopping waits for the broker to take `offline` (the entry exits 1 after 4.5 s in all). */
const OFFLINE_WAIT_MS = 1_500;
/** The most readings searched, newest first, for those of the windows open at a hard stop. */
const RESUME_READINGS = 2_000_000;

const packageVersion = (): string => (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/**
 * Builds the daemon from its config: constructors only, no I/O until start(). The same runtime runs
 * in production, in the demo and in tests (with a temporary SQLite file and a broker on port 0).
 */
export function createRuntime(config: Readonly<EdgeConfig>, deps: RuntimeDeps): Runtime {
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const logger = deps.logger;
  const site = config.site;
  const version = deps.version ?? packageVersion();

  const store = createStore(config.storage, { site, logger, metrics, clock, syncEnabled: config.sync.enabled });
  let lastShedding: { ts: number; rows: number; exhausted: boolean } | undefined;
  let shedTotals: ShedTotals | undefined;

  let ingestHandle: ReturnType<typeof createIngest>['handle'] | undefined;
  let ingestReject: ReturnType<typeof createIngest>['reject'] | undefined;
  const broker = createBroker(config.broker, {
    site,
    plantTopics: [...new Set(config.tags.mqtt.map((m) => plantTopicFilter(m.topic)))],
    logger: logger.child({ component: 'broker' }),
    metrics,
    onMessage: (message, ack) => {
      if (ingestHandle) ingestHandle(message.topic, message.payload, message.qos, ack);
      else ack(false);
    },
    onRejected: (message, reason, detail, ack) => {
      if (ingestReject) ingestReject(message.topic, message.payload, reason, detail, ack);
      else ack(false);
    },
  });
  const mqttOut = createPublisher({ site, send: (topic, payload, options) => broker.publish(topic, payload, options), logger, metrics });
  // The web HMI's live picture sees every output as it goes to MQTT.
  const hmi = createHmi({
    config,
    clock,
    logger,
    tables: store,
    store,
    secure: config.http.tls !== 'off',
    targets: () => ({ alarms, control }),
  });
  const publisher: Publisher = {
    publish(kind, params, payload) {
      mqttOut.publish(kind, params, payload);
      hmi.hub.onPublish(kind, params, payload);
    },
  };

  const alarms = createAlarms({ config: config.alarms, site, publisher, tables: store, state: store, logger, clock, signals: config.signals });
  const setpoints = new SetpointHistory();
  const storedWindows = (rows: number) => store.readAfter('windows', Math.max(0, store.maxSeq('windows') - rows), rows).rows;
  const inference = createInference({ config, site, publisher, tables: store, state: store, alarms: alarms.sink, logger, metrics, clock, setpoints, storedWindows });
  const control = createControl({ config: config.control, site, publisher, tables: store, state: store, alarms: alarms.sink, logger, clock, history: setpoints });
  // Live skill, drift and retraining triggers (src/lifecycle), fed after inference on every window.
  const lifecycle = createModelLifecycle({ config: config.models.lifecycle, publisher, tables: store, state: store, logger, clock, models: () => inference.loaded(), shadows: () => inference.shadows() });
  // Shadow, promotion and automatic rollback (models.lifecycle.shadow, .rollback), judged on the same windows.
  const promoter = createPromoter({
    config: config.models.lifecycle,
    inference,
    alarms: alarms.sink,
    state: store,
    logger,
    now: () => clock.now(),
    onShadow: (e) => lifecycle.onShadow(e),
    onRejection: (e) => lifecycle.onRejection(e),
  });
  alarms.onVerdict((verdict) => {
    lifecycle.onVerdict(verdict);
    promoter.onVerdict(verdict);
  });
  inference.onActivation((event) => {
    lifecycle.onActivation(event, event.action === 'promote' ? promoter.verdictOf(`${event.name}@${event.version}`) : undefined);
    promoter.onActivation(event);
  });
  inference.onShadowRequest((name, request) => {
    const kind = inference.loaded().find((m) => m.name === name)?.kind ?? (name.startsWith('anomaly-') ? 'autoencoder' : 'predictor');
    const stage = inference.loaded().find((m) => m.name === name)?.stage ?? name.split('-').pop() ?? 'effluent';
    promoter.offer({ name, version: request.version, dir: request.dir, kind, stage, by: request.by, reason: `asked for with wwtp-edge models shadow at ${new Date(request.ts).toISOString()}`, request: `${name}@${request.version}:${request.ts}` });
  });
  inference.onRefusal((refusal) => lifecycle.onRefusal({ ...refusal, by: 'daemon' }));
  registerLifecycleGauges(metrics.registry, () => lifecycle.latest());
  // Retraining in the background (models.lifecycle.retrain): a child process per job, never this event loop.
  const retrain = createRetrainer({
    config,
    logger,
    clock,
    alarms: alarms.sink,
    onCandidate: (e) => lifecycle.onCandidate(e),
    onGate: (e) => {
      lifecycle.onGate(e);
      // a candidate that passed the gate runs in shadow, then is promoted or rejected (when switched on)
      if (!e.passed || !e.dir || !autoPromotes(config.models.lifecycle)) return;
      // its gate judged it against the version active when it was asked for: another one since is not what it beat
      const judgedAgainst = (e.detail as { active?: string | null } | undefined)?.active ?? null;
      const activeNow = inference.loaded().find((m) => m.name === e.name)?.id ?? null;
      if (judgedAgainst !== activeNow) {
        lifecycle.onRejection({ ts: e.ts, name: e.name, version: e.version, kind: e.kind, by: 'daemon', reason: `not run in shadow: its gate judged it against ${judgedAgainst ?? 'no active version'}, and ${activeNow ?? 'none'} is active now`, detail: e.detail });
        return;
      }
      promoter.offer({ name: e.name, version: e.version, dir: e.dir, kind: e.kind, stage: e.stage ?? 'effluent', by: 'daemon', reason: 'passed the quality gate' });
    },
  });
  lifecycle.onRetrainingRequested((request) => retrain.request(request));
  // Once a window's setpoints went out: the models in shadow, live skill and drift, promotion and rollback.
  const judge = {
    onWindow: async (plant: PlantWindow, active: ActiveOutcome) => {
      const outcome = await inference.shadowWindow(plant, active);
      const judged = lifecycle.onWindow(plant, outcome);
      promoter.onWindow(plant, outcome, judged);
    },
  };
  // The windows go on after the last stored one; those a kill -9 or a power cut left open are refilled from the store.
  const resume = () => {
    const open = windowsOpenAtStop(store, config.windows, RESUME_READINGS);
    if (open && open.readings.length > 0) logger.info({ lastWindowEnd: new Date(open.lastEnd).toISOString(), readings: open.readings.length }, `windows open at the last stop refilled with ${open.readings.length} stored readings`);
    if (open && !open.complete) logger.warn({ searched: RESUME_READINGS }, `windows open at the last stop refilled from the newest ${RESUME_READINGS} stored readings only: earlier readings of those windows are stored but not in them`);
    return open;
  };
  const pipeline = createPlantPipeline({ config, publisher, tables: store, inference, alarms, control, after: judge, resume, logger: logger.child({ component: 'pipeline' }), metrics, clock, onProcessed: deps.onWindowProcessed });

  const commissioning = createCommissioningLog(logger.child({ component: 'ingest' }), config.signals.length);
  const ingest = createIngest({
    config,
    sink: store,
    clock,
    logger: logger.child({ component: 'ingest' }),
    metrics,
    publishDeadLetter: (deadLetter) => publisher.publish('deadletter', {}, deadLetter),
    onReadings: (readings) => {
      commissioning.seen(readings);
      hmi.hub.onReadings(readings);
      pipeline.push(readings);
    },
    onCommand: (command) => hmi.dispatch(command, 'mqtt'),
    publishRaw: (topic, payload) => {
      broker.publish(topic, payload, { qos: 0, retain: false }).catch((error: unknown) => logger.warn({ topic, err: String(error) }, 'raw publish failed'));
    },
  });
  ingestHandle = ingest.handle;
  ingestReject = ingest.reject;

  const sync = config.sync.enabled
    ? createSync(config.sync, {
        site,
        store,
        logger,
        metrics,
        clock,
        onLagAlarm: (event) => {
          const id = `sync.lag.${event.table}`;
          if (event.raised) alarms.sink.raise({ id, severity: 'medium', stage: 'effluent', message: `central sync of ${event.table} is ${Math.round(event.lagSec / 60)} min behind` }, event.ts);
          else alarms.sink.clear(id, event.ts);
        },
      })
    : undefined;

  let lastNotReady: string | undefined;
  const readiness = (): Record<string, boolean> => {
    const checks = {
      broker: broker.connected(),
      store: store.writable(),
      models: !config.models.enabled || inference.models().length > 0,
    };
    // Why /readyz answers 503, once per change.
    const failing = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name).join(',');
    if (failing !== (lastNotReady ?? '')) {
      if (failing) logger.info({ checks, why: failing.split(',').map((name) => NOT_READY_WHY[name] ?? name) }, `not ready (/readyz 503): ${failing.split(',').map((n) => `${n}:false`).join(' ')}`);
      else if (lastNotReady !== undefined) logger.info({ checks }, 'ready (/readyz 200)');
      lastNotReady = failing;
    }
    return checks;
  };

  /** GET /api/v1/whatif?loop=&value=: the loop's outlet over the next hours under a candidate setpoint. */
  const whatIfRequest = (query: URLSearchParams): { status: number; body: unknown } => {
    const loop = query.get('loop') ?? '';
    const text = query.get('value') ?? '';
    const value = Number(text);
    if (!isLoop(loop)) return { status: 400, body: { error: `unknown loop "${loop.slice(0, 40)}"` } };
    if (text === '' || !Number.isFinite(value)) return { status: 400, body: { error: `bad value "${text.slice(0, 40)}": a number` } };
    if (!config.control.loops.some((l) => l.id === loop && l.enabled !== false)) return { status: 404, body: { error: `loop ${loop} is not configured` } };
    const result = control.whatIf(loop, value);
    return result ? { status: 200, body: result } : { status: 503, body: { error: `no window with the inputs of ${loop} yet` } };
  };

  registerOperatorGauges(metrics.registry, { alarms: () => alarms.list().alarms, models: () => inference.models(), storeBudgetBytes: config.storage.maxBytes });

  /** GET /api/v1/models: each active version with its state and live figures (as last on edge/models). */
  const modelsBody = (): unknown => {
    const live = lifecycle.latest()?.models ?? [];
    const active = inference.models().map((m) => {
      const figures = live.find((l) => l.model === `${m.name}@${m.version}`);
      return { ...m, state: 'active', live: figures ?? null };
    });
    const inShadow = inference.shadows().map((m) => ({ name: m.name, version: m.version, kind: m.kind, stage: m.stage ?? null, dir: m.dir, state: 'shadow', live: live.find((l) => l.model === m.id) ?? null }));
    return [...active, ...inShadow];
  };
  const report = createReportRoute(config);
  const routes = new Map<string, RouteHandler>([
    ['/api/v1/history', (rest, query) => historyRequest(store, rest[0] ?? '', query, config.http.maxPageRows)],
    ['/api/v1/alarms', () => ({ status: 200, body: alarms.list() })],
    ['/api/v1/models', () => ({ status: 200, body: modelsBody() })],
    ['/api/v1/whatif', (_rest, query) => whatIfRequest(query)],
    ['/api/v1/report', (_rest, query) => report(query)],
  ]);
  const http = createHttpServer(config.http, { logger, registry: metrics.registry, readiness, routes, app: hmi.app, tls: httpTls(config) });

  const status = createStatusReporter({
    publisher,
    clock,
    intervalSec: config.status.intervalSec,
    version,
    readiness,
    details: () => ({
      site,
      storeBytes: store.sizeBytes(),
      shedding: lastShedding,
      sync: sync?.status(),
      models: inference.models(),
    }),
  });
  store.onDeadLetter((deadLetter) => publisher.publish('deadletter', {}, deadLetter));
  store.onShedding((info) => {
    const rows = info.shed.reduce((sum, s) => sum + s.rows, 0);
    lastShedding = { ts: info.ts, rows, exhausted: info.exhausted };
    if (info.reason === 'budget') {
      shedTotals = { since: shedTotals?.since ?? info.ts, rows: (shedTotals?.rows ?? 0) + rows };
      alarms.sink.raise(sheddingCondition(info, shedTotals), info.ts);
    }
    status.publishNow({ shedding: info });
  });
  // Cleared once a check sheds nothing and finds the data back under the budget (budget raised, retention).
  store.onUnderBudget((info) => {
    if (!alarms.active(SHEDDING_ALARM_ID)) return;
    alarms.sink.clear(SHEDDING_ALARM_ID, info.ts, sheddingClearedMessage(info, shedTotals));
    // the next episode counts its rows from its own first pass
    shedTotals = undefined;
  });
  inference.onActivation((event) => status.publishNow({ modelActivation: event }));

  // The broker starts right after the store (alarms republish their retained states, models announce
  // their activation); on stop, intake closes first (no message taken in, clients stay connected), then
  // windows flush and the store commits, and the broker goes last: "offline" (retained) still reaches
  // the connected HMIs, and only then are their connections ended.
  const outlet: Component = {
    name: 'broker',
    start: (signal) => broker.start(signal),
    stop: async () => {
      // Bounded: a subscriber that takes nothing (until the broker's drain timeout) must not hold the exit.
      let timer: { clear(): void } | undefined;
      const late = new Promise<'late'>((resolve) => (timer = clock.setTimeout(() => resolve('late'), OFFLINE_WAIT_MS)));
      try {
        if ((await Promise.race([broker.publish(outTopic(site, 'status', {}), 'offline', OUT_OPTIONS.status), late])) === 'late') logger.warn({ waitedMs: OFFLINE_WAIT_MS }, 'offline not confirmed by the broker in time');
      } catch (error) {
        logger.warn({ err: String(error) }, 'could not publish offline');
      } finally {
        timer?.clear();
      }
      await broker.stop();
    },
  };
  const intake: Component = {
    name: 'intake',
    start: async () => {
      pipeline.open();
    },
    stop: async () => {
      await broker.stopIntake();
      await ingest.idle();
    },
  };
  const components: Component[] = [store, outlet, alarms, lifecycle, retrain, inference, promoter, control, pipeline, intake, ...(sync ? [sync] : []), hmi, http, status];
  const group = new ComponentGroup(components, (name, error) => logger.error({ component: name, err: String(error) }, 'stop failed'));

  return {
    metrics,
    async start(signal) {
      try {
        await group.start(signal);
      } catch (error) {
        await group.stop();
        throw error;
      }
      const ports = this.ports();
      logger.info({ site, mqtt: ports.mqtt, ws: ports.ws, http: ports.http, mode: config.broker.mode }, 'wwtp-edge running');
    },
    stop: () => group.stop(),
    idle: () => pipeline.idle(),
    ports: () => {
      const address = broker.address();
      return { mqtt: address.tcpPort, ws: address.wsPort, http: http.port() };
    },
  };
}
