import { Counter, Histogram, type Registry } from 'prom-client';
import type { EdgeConfig } from '../config/schema.js';
import type { AlarmSink, PlantWindow, Publisher, SetpointView, StateStore, TableWriter } from '../contract/ports.js';
import type { StageId } from '../contract/plant.js';
import type { AnomalyRow, PredictionRow, ShadowOutputRow, WindowRow } from '../contract/rows.js';
import { fromWindowRows } from '../windows/rows.js';
import type { Clock } from '../lib/clock.js';
import type { Component } from '../lib/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { readRegistry, type ModelActivationEvent, type ShadowRequest } from './registry-file.js';
import { ModelRegistry, type ModelInfo, type ShadowRole } from './registry.js';
import { inactiveTargets, isEligible } from './eligibility.js';
import { windowHistory } from './features.js';
import { anomalyRow, DetectorStates, runModels, runShadows, type ModelRuns, type SkippedModel } from './run.js';
import type { MissingInput } from './features.js';
import { MissingInputsLog } from './missing-log.js';
import { checkFlowBalances } from './flow-balance.js';
import { checkSpeciesSums } from './species-sum.js';
import { LevelShifts } from './level-shift.js';
import { LoopDeviations } from './loop-deviation.js';
import { PROCESS_CHECKS, SensorChecks, type Band, type SensorFlag } from './sensor-checks.js';
import type { LoadedModel } from './session.js';

export type { ModelActivationEvent, ShadowRequest } from './registry-file.js';
export type { ModelInfo } from './registry.js';
export type { SensorFlag } from './sensor-checks.js';
export type { SkippedModel } from './run.js';
export { listModels, activateModel, rollbackModel, shadowModel, candidateDir, formatListing, parseModelRef, type ModelListing } from './cli.js';
export { REGISTRY_FILE } from './registry-file.js';

export interface InferenceContext {
  readonly config: EdgeConfig;
  readonly site: string;
  readonly publisher: Publisher;
  readonly tables: TableWriter;
  readonly state: StateStore;
  readonly alarms: AlarmSink;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** The setpoints control published (loop-deviation check); without it that check is off. */
  readonly setpoints?: SetpointView | undefined;
  /**
   * The last `rows` stage windows the store holds (table `windows`, in storing order): at start they fill
   * the predictors' recent history, so a restart does not leave the `mean@-Nm` inputs empty for hours.
   */
  readonly storedWindows?: ((rows: number) => readonly WindowRow[]) | undefined;
}

/** What the active models made of a window: what alarms and control act on. */
export interface ActiveOutcome {
  readonly anomalies: AnomalyRow[];
  /**
   * The anomalous rows whose stage's readings are in doubt (the autoencoder's verdict, or a sensor check
   * on a measurement): what the control's fallback acts on. A stage flagged only by a process check
   * (PROCESS_CHECKS) is published as anomalous but left out here.
   */
  readonly untrusted: AnomalyRow[];
  readonly predictions: PredictionRow[];
  /** Models not run on this window because an input was absent, stale or not finite. */
  readonly skipped: SkippedModel[];
  readonly sensorFlags: SensorFlag[];
  /** Active models whose run failed on this window (`name`, `name@version`). */
  readonly failures: readonly ModelRunFailure[];
}

/** A window's active outcome with what the candidates in shadow made of it (live skill, promotion, rollback). */
export interface WindowOutcome extends ActiveOutcome {
  /** What the candidates in shadow computed on the window: stored in shadow_outputs, never published. */
  readonly shadow: {
    readonly predictions: readonly PredictionRow[];
    readonly anomalies: readonly AnomalyRow[];
    readonly failures: readonly ModelRunFailure[];
  };
}

export interface ModelRunFailure {
  readonly name: string;
  readonly model: string;
  readonly error: string;
}

export interface Inference extends Component {
  /** The active models on a window: its alarms and the outcome control acts on. */
  onWindow(plant: PlantWindow): Promise<ActiveOutcome>;
  /**
   * The candidates in shadow on the same window, after its setpoints went out (their work never delays
   * control). Call once per window, after `onWindow` of that window and before the next one's.
   */
  shadowWindow(plant: PlantWindow, outcome: ActiveOutcome): Promise<WindowOutcome>;
  models(): ModelInfo[];
  activate(name: string, version: string): Promise<ModelActivationEvent>;
  /** `reason`: an automatic rollback by the daemon (recorded with the event). */
  rollback(name: string, reason?: string): Promise<ModelActivationEvent>;
  /** Loads a candidate (activation gate) to run in shadow beside the active version of its name. */
  startShadow(name: string, version: string, dir: string, role?: ShadowRole): Promise<LoadedModel>;
  stopShadow(name: string, role?: ShadowRole): void;
  /** The shadow candidate (or, `role: 'previous'`, the version beside a watched one) becomes the active version (atomic swap, recorded in registry.json). */
  promote(name: string, version: string, reason: string, role?: ShadowRole): Promise<ModelActivationEvent>;
  /** The candidates in shadow, as loaded. */
  shadows(): LoadedModel[];
  /** Shadow runs asked for in registry.json (`wwtp-edge models shadow`), each once per daemon run. */
  onShadowRequest(listener: (name: string, request: ShadowRequest) => void): () => void;
  /** Every activation (API, CLI via registry.json, boot); the runtime publishes them on status. */
  onActivation(listener: (event: ModelActivationEvent) => void): () => void;
  /** Every version the activation gate refused (the running one stays). */
  onRefusal(listener: (refusal: ModelRefusal) => void): () => void;
  /** The active model versions as loaded (manifest, inputs, targets). */
  loaded(): LoadedModel[];
}

export interface ModelRefusal {
  readonly ts: number;
  readonly name: string;
  readonly version: string;
  readonly reason: string;
}

/** Most plant windows kept for history inputs (a day of 5-min windows, and some). */
const HISTORY_LIMIT = 600;

/** StateStore key holding the active versions and the recent activations. */
export const MODELS_STATE_KEY = 'models.registry';

function metricOnce<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Operating bands learned by each stage's anomaly model (its training data's range, widened). */
function learnedBands(models: readonly LoadedModel[]): Map<string, Band> {
  const bands = new Map<string, Band>();
  for (const model of models) for (const [key, band] of Object.entries(model.bands)) bands.set(key, band);
  return bands;
}

export function createInference(ctx: InferenceContext): Inference {
  const cfg = ctx.config.models;
  const log = ctx.logger.child({ component: 'inference' });
  const units = new Map(ctx.config.signals.map((s) => [`${s.stage}.${s.id}`, s.unit]));
  const checked = ctx.config.signals.map((s) => ({ stage: s.stage, signal: s.id, periodSec: s.periodSec, min: s.min, max: s.max }));
  const runSeconds = metricOnce(ctx.metrics.registry, 'wwtp_edge_inference_seconds', () => new Histogram({
    name: 'wwtp_edge_inference_seconds', help: 'All models on one plant window', buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05], registers: [ctx.metrics.registry],
  }));
  const skippedRuns = metricOnce(ctx.metrics.registry, 'wwtp_edge_model_skipped_total', () => new Counter({
    name: 'wwtp_edge_model_skipped_total', help: 'Model runs skipped for missing or stale inputs', labelNames: ['model'] as const, registers: [ctx.metrics.registry],
  }));
  const missingInputs = metricOnce(ctx.metrics.registry, 'wwtp_edge_model_missing_inputs_total', () => new Counter({
    name: 'wwtp_edge_model_missing_inputs_total', help: 'Model inputs missing from a window (no prediction, or a partial or no anomaly verdict), by reason', labelNames: ['model', 'reason'] as const, registers: [ctx.metrics.registry],
  }));
  const failedRuns = metricOnce(ctx.metrics.registry, 'wwtp_edge_model_failures_total', () => new Counter({
    name: 'wwtp_edge_model_failures_total', help: 'Model runs or activations that failed', labelNames: ['model'] as const, registers: [ctx.metrics.registry],
  }));
  const listeners = new Set<(event: ModelActivationEvent) => void>();
  const refusalListeners = new Set<(refusal: ModelRefusal) => void>();
  const shadowListeners = new Set<(name: string, request: ShadowRequest) => void>();
  const seenRequests = new Set<string>();
  const recent: ModelActivationEvent[] = [];
  let checks = new SensorChecks(cfg.sensorChecks, checked);
  // A check over a meter this plant does not have is left out, once, with a warning.
  const known = (what: string, id: string, keys: readonly (string | undefined)[]): boolean => {
    const missing = keys.filter((key): key is string => key !== undefined && !units.has(key));
    if (missing.length > 0) log.warn({ check: what, id, missing }, `${what} names signals that are not configured; not checked`);
    return missing.length === 0;
  };
  const balances = cfg.sensorChecks.flowBalances.filter((b) => known('flow balance', b.id, [...b.inflow, ...b.outflow]));
  const speciesSums = cfg.sensorChecks.speciesSums.filter((s) => known('species sum', s.id, [...s.parts, s.total]));
  const deviationsConfig = cfg.sensorChecks.loopDeviations.filter((d) => known('loop deviation', d.loop, [d.signal, d.actuator]));
  const shiftsConfig = cfg.sensorChecks.levelShifts.filter((s) => known('level shift', s.id, [s.signal, s.per, s.load]));
  let deviations = new LoopDeviations(deviationsConfig, ctx.setpoints);
  let shifts = new LevelShifts(shiftsConfig);
  // Recent plant windows for the predictors' history inputs (`mean@-60m`), as far back as the longest lag.
  const history = new Map<number, PlantWindow>();
  /** The longest history input of the models running, active or in shadow (a candidate may look further back). */
  const longestLagMs = (): number => {
    const running = [...registry.names().flatMap((n) => registry.get(n) ?? []), ...registry.shadowNames().flatMap((k) => registry.getShadow(k) ?? [])];
    let lag = 0;
    for (const m of running) for (const i of m.inputs) lag = Math.max(lag, i.lagMin * 60_000);
    return lag;
  };
  const activeAlarms = new Set<string>();
  let detectors = new DetectorStates();
  let shadowDetectors = new DetectorStates();
  let lastTs = 0;

  const raise = (id: string, condition: Omit<Parameters<AlarmSink['raise']>[0], 'id'>, ts: number): void => {
    ctx.alarms.raise({ id, ...condition }, ts);
    activeAlarms.add(id);
  };
  const clear = (id: string, ts: number): void => {
    if (activeAlarms.delete(id)) ctx.alarms.clear(id, ts);
  };

  const registry: ModelRegistry = new ModelRegistry({
    modelsDir: cfg.dir,
    intraOpThreads: cfg.intraOpThreads,
    logger: log,
    now: () => ctx.clock.now(),
    onActivation(event) {
      recent.push(event);
      if (recent.length > 50) recent.shift();
      const active = Object.fromEntries(registry.list().map((m) => [m.name, m.version]));
      ctx.state.setState(MODELS_STATE_KEY, { active, events: recent });
      const loaded = registry.names().flatMap((n) => registry.get(n) ?? []);
      checks.setBands(learnedBands(loaded));
      const model = registry.get(event.name);
      const inactive = model ? inactiveTargets(model) : [];
      if (model && !isEligible(model)) log.warn({ model: model.id, inactive }, 'predictor not active on this plant: no target met the skill bar on its held-out data');
      else if (model && inactive.length > 0) log.warn({ model: model.id, inactive }, 'predictor targets not published on this plant: they missed the skill bar on held-out data');
      clear(`model.${event.name}`, ctx.clock.now());
      for (const listener of listeners) listener(event);
    },
    onFailure(name, error, version) {
      failedRuns.inc({ model: name });
      log.error({ model: name, version, err: error }, 'model refused by the activation gate');
      raise(`model.${name}`, { severity: 'high', stage: 'effluent', message: `model ${name} refused: ${error.message}` }, lastTs || ctx.clock.now());
      for (const listener of refusalListeners) listener({ ts: ctx.clock.now(), name, version, reason: error.message });
    },
  });

  /** Keeps the window and drops those older than the longest lag (at most HISTORY_LIMIT windows). */
  const remember = (plant: PlantWindow): void => {
    const historyMs = longestLagMs();
    if (historyMs === 0) {
      history.clear();
      return;
    }
    history.set(plant.end, plant);
    for (const end of history.keys()) {
      if (end >= plant.end - historyMs && history.size <= HISTORY_LIMIT) break;
      history.delete(end);
    }
  };

  /** The windows stored before this start, as far back as the longest lag: the history inputs are there from the first window. */
  const warmHistory = (): void => {
    const historyMs = longestLagMs();
    if (!ctx.storedWindows || historyMs === 0) return;
    const stages = new Set(ctx.config.signals.map((s) => s.stage)).size;
    const wanted = Math.min(HISTORY_LIMIT, Math.ceil(historyMs / (ctx.config.windows.slideSec * 1000)) + 2) * Math.max(1, stages);
    try {
      const windows = fromWindowRows(ctx.storedWindows(wanted));
      const newest = windows.at(-1)?.end;
      if (newest === undefined) return;
      const kept = windows.filter((w) => w.end >= newest - historyMs);
      for (const w of kept) history.set(w.end, w);
      log.info({ windows: kept.length, from: new Date(kept[0]?.end ?? newest).toISOString(), to: new Date(newest).toISOString() }, 'recent history for the predictors taken from the store');
    } catch (error) {
      log.warn({ err: String(error) }, 'recent history not read from the store: the predictors wait for live windows');
    }
  };

  let timer: { clear(): void } | undefined;
  let stopped: Promise<void> | undefined;

  /** Shadow requests in registry.json not handed on yet in this run. */
  const pollShadowRequests = async (): Promise<void> => {
    const requests = (await readRegistry(cfg.dir)).shadows ?? {};
    for (const [name, request] of Object.entries(requests)) {
      const key = `${name}@${request.version}:${request.ts}`;
      if (seenRequests.has(key)) continue;
      seenRequests.add(key);
      for (const listener of shadowListeners) listener(name, request);
    }
  };
  const poll = (): void => {
    registry.reconcile().then(pollShadowRequests).catch((error: unknown) => log.error({ err: error }, 'registry poll failed'));
  };
  const NO_RUNS: ModelRuns = { scores: [], predictions: [], skipped: [], failures: [], succeeded: [] };
  const NO_SHADOW: WindowOutcome['shadow'] = { predictions: [], anomalies: [], failures: [] };
  const failuresOf = (runs: ModelRuns): ModelRunFailure[] => runs.failures.map((f) => ({ name: f.name, model: f.model, error: f.error.message }));
  const warnedUnconfigured = new Set<string>();
  const missingLog = new MissingInputsLog(log, () => ctx.clock.now());
  const countMissing = (model: string, missing: readonly MissingInput[]): void => {
    for (const m of missing) missingInputs.inc({ model, reason: m.reason });
    // a plant without a signal the model reads (a stage removed in the site config): said once, at warn
    const unconfigured = missing.map((m) => m.input.split('.').slice(0, 2).join('.')).filter((key) => !units.has(key));
    if (unconfigured.length > 0 && !warnedUnconfigured.has(model)) {
      warnedUnconfigured.add(model);
      log.warn({ model, signals: [...new Set(unconfigured)] }, 'model reads signals that are not configured: it is skipped or scored without them on every window');
    }
  };

  return {
    name: 'inference',
    async start(signal) {
      checks = new SensorChecks(cfg.sensorChecks, checked);
      deviations = new LoopDeviations(deviationsConfig, ctx.setpoints);
      shifts = new LevelShifts(shiftsConfig);
      detectors = new DetectorStates();
      shadowDetectors = new DetectorStates();
      if (!cfg.enabled) return;
      await registry.reconcile();
      if (signal.aborted) return;
      warmHistory();
      timer = ctx.clock.setInterval(poll, cfg.registryPollSec * 1000);
    },
    stop() {
      stopped ??= (async () => {
        timer?.clear();
        await registry.close();
      })();
      return stopped;
    },
    async onWindow(plant) {
      lastTs = plant.end;
      const started = performance.now();
      const flags: SensorFlag[] = [];
      for (const window of Object.values(plant.stages)) flags.push(...checks.update(window));
      if (cfg.sensorChecks.enabled) flags.push(...checkFlowBalances(balances, plant), ...checkSpeciesSums(speciesSums, plant), ...deviations.update(plant), ...shifts.update(plant));
      remember(plant);
      const unitOf = (stage: StageId, signal: string): string => units.get(`${stage}.${signal}`) ?? '';
      const past = windowHistory(history, ctx.config.windows.slideSec * 1000);
      const runs = cfg.enabled ? await runModels(registry, plant, unitOf, detectors, past) : NO_RUNS;
      runSeconds.observe((performance.now() - started) / 1000);
      const ts = plant.end;
      const flagged = new Map<StageId, SensorFlag[]>();
      for (const f of flags) flagged.set(f.stage, [...(flagged.get(f.stage) ?? []), f]);
      const anomalies: AnomalyRow[] = [];
      const doubted = new Set<StageId>(flags.filter((f) => !PROCESS_CHECKS.has(f.check)).map((f) => f.stage));
      for (const score of runs.scores) {
        // a window without a verdict does not take the sensor checks' flags: they get their own row below
        const row = anomalyRow(score, ts, score.verdict !== 'none' && flagged.has(score.stage));
        anomalies.push(row);
        if (score.missing.length > 0) {
          countMissing(score.model, score.missing);
          missingLog.note(score.model, score.verdict === 'none' ? 'no_verdict' : 'partial_verdict', score.missing, ts);
        }
        if (score.verdict === 'none') {
          // no verdict: the stage's anomaly alarm stays as it was, raised or not
          skippedRuns.inc({ model: score.model });
          continue;
        }
        if (score.flag) {
          doubted.add(score.stage);
          // an alarm is raised from a window with every input there, never from held (imputed) levels
          if (score.verdict !== 'scored') continue;
          const top = score.contributors[0];
          raise(`anomaly.${score.stage}`, { severity: 'medium', stage: score.stage, signal: top?.signal, message: `${score.stage}: anomaly score ${(score.score ?? 0).toPrecision(3)} (threshold ${score.threshold.toPrecision(3)})${top ? `, mostly ${top.signal}` : ''}` }, ts);
        } else clear(`anomaly.${score.stage}`, ts);
      }
      for (const [stage, list] of flagged) {
        if (anomalies.some((a) => a.stage === stage && a.verdict !== 'none')) continue;
        const share = Number((1 / list.length).toFixed(4));
        anomalies.push({ stage, ts, score: list.length, threshold: 0, isAnomaly: true, contributors: JSON.stringify(list.map((f) => ({ signal: f.signal, share }))), model: 'sensor-checks' });
      }
      const flagIds = new Set(flags.map((f) => `sensor.${f.stage}.${f.signal}.${f.check}`));
      for (const f of flags) raise(`sensor.${f.stage}.${f.signal}.${f.check}`, { severity: 'medium', stage: f.stage, signal: f.signal, message: f.message }, ts);
      for (const id of [...activeAlarms]) if (id.startsWith('sensor.') && !flagIds.has(id)) clear(id, ts);
      for (const failure of runs.failures) {
        failedRuns.inc({ model: failure.name });
        log.error({ model: failure.model, err: failure.error }, 'model run failed');
        raise(`model.${failure.name}`, { severity: 'high', stage: registry.get(failure.name)?.stage ?? registry.get(failure.name)?.targets[0]?.stage ?? 'effluent', message: `model ${failure.model} failed: ${failure.error.message}` }, ts);
      }
      for (const name of runs.succeeded) clear(`model.${name}`, ts);
      for (const s of runs.skipped) {
        skippedRuns.inc({ model: s.model });
        countMissing(s.model, s.missing);
        missingLog.note(s.model, 'no_prediction', s.missing, ts);
      }
      if (anomalies.length > 0) ctx.tables.insert('anomalies', anomalies);
      if (runs.predictions.length > 0) ctx.tables.insert('predictions', runs.predictions);
      for (const a of anomalies) {
        ctx.publisher.publish('anomaly', { stage: a.stage }, {
          ts: a.ts, score: a.score, threshold: a.threshold, isAnomaly: a.isAnomaly, contributors: JSON.parse(a.contributors) as { signal: string; share: number }[], model: a.model,
          ...(a.verdict ? { verdict: a.verdict, missing: a.missing ? (JSON.parse(a.missing) as MissingInput[]) : [] } : {}),
        });
      }
      for (const p of runs.predictions) {
        ctx.publisher.publish('prediction', { stage: p.stage, signal: p.signal }, { value: p.value, unit: p.unit, ts: p.ts, horizonMin: p.horizonMin, model: p.model });
      }
      const untrusted = anomalies.filter((a) => a.isAnomaly && doubted.has(a.stage));
      return { anomalies, untrusted, predictions: runs.predictions, skipped: runs.skipped, sensorFlags: flags, failures: failuresOf(runs) };
    },
    async shadowWindow(plant, outcome) {
      if (!cfg.enabled || registry.shadowNames().length === 0) return { ...outcome, shadow: NO_SHADOW };
      const unitOf = (stage: StageId, signal: string): string => units.get(`${stage}.${signal}`) ?? '';
      const past = windowHistory(history, ctx.config.windows.slideSec * 1000);
      const shadowRuns = await runShadows(registry, plant, unitOf, shadowDetectors, past);
      const ts = plant.end;
      const flagged = new Set(outcome.sensorFlags.map((f) => f.stage));
      const shadowAnomalies = shadowRuns.scores.map((score) => anomalyRow(score, ts, score.verdict !== 'none' && flagged.has(score.stage)));
      const shadowRows: ShadowOutputRow[] = [
        ...shadowRuns.predictions.map((p) => ({ model: p.model, stage: p.stage, signal: p.signal, ts: p.ts, horizonMin: p.horizonMin, value: p.value, unit: p.unit, persistence: p.persistence ?? null, threshold: null, isAnomaly: false })),
        ...shadowAnomalies.flatMap((a) => (a.score === null ? [] : [{ model: a.model, stage: a.stage, signal: 'anomaly_score', ts: a.ts, horizonMin: 0, value: a.score, unit: '', persistence: null, threshold: a.threshold, isAnomaly: a.isAnomaly }])),
      ];
      if (shadowRows.length > 0) ctx.tables.insert('shadow_outputs', shadowRows);
      for (const failure of shadowRuns.failures) log.warn({ model: failure.model, err: failure.error.message }, 'model in shadow failed');
      return { ...outcome, shadow: { predictions: shadowRuns.predictions, anomalies: shadowAnomalies, failures: failuresOf(shadowRuns) } };
    },
    models: () => registry.list(),
    activate: (name, version) => registry.activate(name, version),
    rollback: (name, reason) => registry.rollback(name, reason),
    startShadow: (name, version, dir, role) => registry.startShadow(name, version, dir, role),
    stopShadow: (name, role) => registry.stopShadow(name, role),
    promote: (name, version, reason, role) => registry.promote(name, version, reason, role),
    shadows: () => registry.shadowNames().flatMap((n) => registry.getShadow(n) ?? []),
    onShadowRequest(listener) {
      shadowListeners.add(listener);
      return () => shadowListeners.delete(listener);
    },
    onActivation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onRefusal(listener) {
      refusalListeners.add(listener);
      return () => refusalListeners.delete(listener);
    },
    loaded: () => registry.names().flatMap((n) => registry.get(n) ?? []),
  };
}
