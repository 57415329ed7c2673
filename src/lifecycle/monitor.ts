import type { LifecycleConfig } from '../config/sections/lifecycle.js';
import type { PlantWindow, Publisher, StateStore, TableWriter } from '../contract/ports.js';
import type { AnomalyRow, ModelEventRow, PredictionRow } from '../contract/rows.js';
import type { ModelEventMessage, ModelLiveMessage, ModelsMessage } from '../contract/topics.js';
import type { WindowOutcome } from '../inference/index.js';
import type { LoadedModel } from '../inference/session.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { DetectorRing, ownFlag, type DetectorFigures, type DetectorState } from './detector.js';
import type { SkillFigures } from './skill.js';
import { LiveTracker, type JudgedPrediction, type TrackedModel, type TrackerState } from './tracker.js';
import { driftJudged, evaluateTriggers, type TriggerOutcome } from './triggers.js';
import { DAY_MS, type DriftFigures } from './drift.js';
import type { CandidateNotice, GateNotice, RetrainRequest } from './retrain.js';
import type { ShadowNotice } from './promotion.js';
import { SaveCadence } from './save-cadence.js';

export const LIFECYCLE_STATE_KEY = 'models.lifecycle';
/** Versions no longer active (rolled back, rejected) still listed with their figures. */
const MAX_RETIRED = 20;

/** What the monitor hears of an activation or rollback (the registry's event). */
export interface ActivationNotice {
  readonly ts: number;
  readonly name: string;
  readonly version: string;
  readonly previous: string | null;
  readonly action: 'activate' | 'rollback' | 'initial' | 'promote';
  readonly by: string;
  /** Why (the daemon's promotions and automatic rollbacks). */
  readonly reason?: string | undefined;
}

/** A version the gate refused, with the gate's reason and report. */
export interface RefusalNotice {
  readonly ts: number;
  readonly name: string;
  readonly version: string;
  readonly reason: string;
  readonly by: string;
  readonly report?: unknown;
}

export interface ModelLifecycleContext {
  readonly config: LifecycleConfig;
  readonly publisher: Publisher;
  readonly tables: TableWriter;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The active, loaded model versions. */
  readonly models: () => readonly LoadedModel[];
  /** The candidates running in shadow (listed as `shadow`, their live figures tracked like the active ones'). */
  readonly shadows?: () => readonly LoadedModel[];
}

interface Retired {
  readonly name: string;
  readonly version: string;
  readonly kind: string;
  readonly state: 'rolled_back' | 'rejected' | 'inactive' | 'candidate';
}

interface Persisted {
  tracker: TrackerState;
  detectors: Record<string, DetectorState>;
  newWindows: Record<string, number>;
  fired: Record<string, string[]>;
  lastEvents: Record<string, ModelEventMessage>;
  retired: Record<string, Retired>;
  /** The last window's end: a restart publishes the figures at the plant time they were at. */
  plantTs?: number | undefined;
  /** Plant ms each version was activated on this site at (the schedule trigger counts from it). */
  activatedAt?: Record<string, number>;
}

/** The rings are saved every 10 minutes or 15 plant minutes and at stop: their JSON grows to a few hundred kB in a week. */
const SAVE_EVERY_MS = 600_000;
const SAVE_EVERY_PLANT_MS = 15 * 60_000;
/** The states of a version in shadow beside a watched one, not as a candidate. */
const BESIDE_STATES: ReadonlySet<string | undefined> = new Set(['inactive', 'rolled_back']);

/** Undefined figures (no samples, no variance) go out as null. */
const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
const skillOut = (f: SkillFigures) => ({ n: f.n, r2: finite(f.r2), mape: finite(f.mape), mae: finite(f.mae), mse: finite(f.mse), mseSkill: finite(f.mseSkill) });
const driftOut = (f: DriftFigures) => ({ n: f.n, psi: finite(f.psi), shift: finite(f.shift) });
const detectorOut = (f: DetectorFigures) => ({ ...f, flagRate: finite(f.flagRate), flagsPerDay: finite(f.flagsPerDay) });

const tracked = (m: LoadedModel): TrackedModel => ({ id: m.id, inputs: m.inputs, center: m.manifest.scaler.center, scale: m.manifest.scaler.scale });

/** The stage a version watches (detectors) or predicts (its first target's). */
const stageOf = (m: LoadedModel): string => m.stage ?? m.targets[0]?.stage ?? 'effluent';

/**
 * Live skill, drift and detector figures of the models (issue 15 items 1 to 3): fed by the daemon's
 * windows, predictions, anomaly rows and the operators' verdicts; the retraining triggers judged every
 * `publishSec`; each activation, rollback, trigger and gate result one `model_events` row; all of it on
 * the retained `wwtp/{site}/edge/models` and kept in the state store across restarts.
 */
export function createModelLifecycle(ctx: ModelLifecycleContext) {
  const log = ctx.logger.child({ component: 'lifecycle' });
  const shadows = ctx.shadows ?? (() => []);
  let tracker = new LiveTracker();
  const detectors = new Map<string, DetectorRing>();
  const newWindows = new Map<string, number>();
  const fired = new Map<string, Set<string>>();
  /** Plant ms of the last retraining request per active version. */
  const requestedAt = new Map<string, number>();
  const lastEvents = new Map<string, ModelEventMessage>();
  const retired = new Map<string, Retired>();
  let plantTs: number | undefined;
  const activatedAt = new Map<string, number>();
  /** Activated before any window was seen: their activation time is the next window's end. */
  const activatedUnseen = new Set<string>();
  const retrainListeners: ((r: RetrainRequest) => void)[] = [];
  let timer: { clear(): void } | undefined;
  let last: ModelsMessage | undefined;
  const cadence = new SaveCadence(SAVE_EVERY_MS, SAVE_EVERY_PLANT_MS);
  /** An event was recorded since the last save: the next publish saves, so `lastEvent` and the retired versions survive a crash. */
  let eventsUnsaved = false;

  function restore(): void {
    const saved = ctx.state.getState<Persisted>(LIFECYCLE_STATE_KEY);
    if (!saved || typeof saved !== 'object') return;
    tracker = new LiveTracker(saved.tracker);
    for (const [id, d] of Object.entries(saved.detectors ?? {})) detectors.set(id, new DetectorRing(d));
    for (const [id, n] of Object.entries(saved.newWindows ?? {})) newWindows.set(id, n);
    for (const [id, f] of Object.entries(saved.fired ?? {})) fired.set(id, new Set(f));
    for (const [id, e] of Object.entries(saved.lastEvents ?? {})) lastEvents.set(id, e);
    for (const [id, r] of Object.entries(saved.retired ?? {})) retired.set(id, r);
    if (typeof saved.plantTs === 'number') plantTs = saved.plantTs;
    for (const [id, at] of Object.entries(saved.activatedAt ?? {})) activatedAt.set(id, at);
  }

  function save(): void {
    const data: Persisted = {
      tracker: tracker.toState(),
      detectors: Object.fromEntries([...detectors].map(([id, d]) => [id, d.toState()])),
      newWindows: Object.fromEntries(newWindows),
      fired: Object.fromEntries([...fired].map(([id, f]) => [id, [...f]])),
      lastEvents: Object.fromEntries(lastEvents),
      retired: Object.fromEntries(retired),
      plantTs,
      activatedAt: Object.fromEntries(activatedAt),
    };
    ctx.state.setState(LIFECYCLE_STATE_KEY, data);
    cadence.saved(ctx.clock.now(), plantTs);
    eventsUnsaved = false;
  }

  function record(row: ModelEventRow): void {
    eventsUnsaved = true;
    lastEvents.set(row.model, { ts: row.ts, event: row.event, by: row.by, previous: row.previous, reason: row.reason });
    try {
      ctx.tables.insert('model_events', [row]);
    } catch (error) {
      log.error({ err: String(error), model: row.model, event: row.event }, 'model event not stored');
    }
  }

  function detector(id: string): DetectorRing {
    let ring = detectors.get(id);
    if (ring === undefined) detectors.set(id, (ring = new DetectorRing()));
    return ring;
  }

  const detectorFigures = (id: string, now: number): { '1d': DetectorFigures; '7d': DetectorFigures } => {
    const ring = detector(id);
    return { '1d': ring.figures(now, 1), '7d': ring.figures(now, 7) };
  };

  function live(m: { id: string; name: string; version: string; kind: string }, state: ModelLiveMessage['state'], loaded: LoadedModel | undefined, now: number): ModelLiveMessage {
    const figures = tracker.figures(m.id, now);
    const skill: ModelLiveMessage['skill'] = {};
    for (const [key, f] of Object.entries(figures.skill)) skill[key] = { '24h': skillOut(f['24h']), '7d': skillOut(f['7d']) };
    const drift: ModelLiveMessage['drift'] = {};
    for (const [key, f] of Object.entries(figures.drift)) drift[key] = { '1d': driftOut(f['1d']), '7d': driftOut(f['7d']) };
    const drifted = Object.entries(figures.drift)
      .filter(([, f]) => driftJudged(ctx.config, f['7d']) && f['7d'].psi > ctx.config.drift.psi)
      .map(([key]) => key);
    const isDetector = m.kind === 'autoencoder';
    const det = isDetector ? detectorFigures(m.id, now) : undefined;
    let triggers: TriggerOutcome[] = [];
    if (loaded && state === 'active') {
      triggers = evaluateTriggers(ctx.config, {
        heldOut: loaded.manifest.metrics,
        skill7d: Object.fromEntries(Object.entries(figures.skill).map(([k, f]) => [k, f['7d']])),
        drift7d: Object.fromEntries(Object.entries(figures.drift).map(([k, f]) => [k, f['7d']])),
        ...(activatedAt.has(m.id) ? { activatedAtMs: activatedAt.get(m.id) } : {}),
        nowMs: now,
        newWindows: newWindows.get(m.id) ?? 0,
        falseAlarms7d: det?.['7d'].falseAlarms ?? 0,
      });
    }
    return {
      model: m.id,
      name: m.name,
      version: m.version,
      kind: m.kind,
      state,
      skill,
      drift,
      drifted,
      ...(det ? { detector: { trainingFlagRate: finite(loaded?.manifest.metrics['heldOutFalseAlarmRate'] ?? Number.NaN), '1d': detectorOut(det['1d']), '7d': detectorOut(det['7d']) } } : {}),
      triggers: triggers.map((t) => ({ trigger: t.trigger, reason: t.reason, ...(t.inputs ? { inputs: t.inputs } : {}) })),
      retrainingRequested: triggers.length > 0,
      lastEvent: lastEvents.get(m.id) ?? null,
    };
  }

  /** The figures now; newly fired triggers are logged and recorded. */
  function snapshot(): ModelsMessage {
    const now = plantTs ?? ctx.clock.now();
    const active = ctx.models();
    const models = active.map((m) => live(m, 'active', m, now));
    const inShadow = shadows().filter((s) => !active.some((m) => m.id === s.id));
    // a version rolled back from, run beside the restored one while that is watched, stays listed as rolled back
    models.push(...inShadow.map((m) => live(m, retired.get(m.id)?.state === 'rolled_back' ? 'rolled_back' : 'shadow', m, now)));
    for (const [id, r] of retired) if (!active.some((m) => m.id === id) && !inShadow.some((m) => m.id === id)) models.push(live({ id, ...r }, r.state, undefined, now));
    for (const m of models) {
      const before = fired.get(m.model) ?? new Set<string>();
      const fresh = m.triggers.filter((t) => !before.has(t.trigger));
      fired.set(m.model, new Set(m.triggers.map((t) => t.trigger)));
      const loaded = active.find((a) => a.id === m.model);
      if (fresh.length === 0) {
        if (loaded && stillFiring(m, now)) {
          const reason = `still firing ${((now - (requestedAt.get(m.model) ?? now)) / DAY_MS).toFixed(1)} days after the last request: ${m.triggers.map((t) => t.reason).join('; ')}`;
          log.info({ model: m.model, triggers: m.triggers.map((t) => t.trigger) }, `${m.model}: ${reason}`);
          record({ ts: now, model: m.model, event: 'trigger', by: 'daemon', previous: null, reason, detail: JSON.stringify({ triggers: m.triggers, again: true }) });
          m.lastEvent = lastEvents.get(m.model) ?? null;
          requestedAt.set(m.model, now);
          requestRetraining({ id: loaded.id, name: loaded.name, version: loaded.version, kind: loaded.kind, stage: stageOf(loaded), dir: loaded.dir, triggers: m.triggers });
        }
        continue;
      }
      for (const t of fresh) log.info({ model: m.model, trigger: t.trigger, inputs: t.inputs }, `${m.model}: ${t.reason}`);
      record({ ts: now, model: m.model, event: 'trigger', by: 'daemon', previous: null, reason: fresh.map((t) => t.reason).join('; '), detail: JSON.stringify({ triggers: fresh }) });
      m.lastEvent = lastEvents.get(m.model) ?? null;
      if (loaded) {
        requestedAt.set(m.model, now);
        requestRetraining({ id: loaded.id, name: loaded.name, version: loaded.version, kind: loaded.kind, stage: stageOf(loaded), dir: loaded.dir, triggers: fresh });
      }
    }
    last = { ts: ctx.clock.now(), plantTs: plantTs ?? null, models };
    return last;
  }

  /**
   * An active version whose triggers kept firing since its last retraining request, `retrain.retryDays` of
   * plant time ago, with no candidate of it in shadow: the last candidate was refused or never made (too
   * little history then), and the plant still says the version is wrong, so it is asked for again.
   */
  function stillFiring(m: ModelLiveMessage, now: number): boolean {
    const retry = ctx.config.retrain.retryDays;
    const asked = requestedAt.get(m.model);
    if (m.triggers.length === 0 || retry === null || asked === undefined || now - asked < retry * DAY_MS) return false;
    // a candidate of it in shadow is its answer; a version run beside it while it is watched (replaced or rolled back from) is not
    return !shadows().some((s) => s.name === m.name && !BESIDE_STATES.has(retired.get(s.id)?.state));
  }

  function requestRetraining(r: RetrainRequest): void {
    for (const listener of retrainListeners) {
      try {
        listener(r);
      } catch (error) {
        log.error({ err: String(error), model: r.id }, 'retraining request failed');
      }
    }
  }

  /** A candidate of the background retraining, listed beside the active versions (rejected once its gate failed). */
  function listCandidate(e: CandidateNotice, state: Retired['state']): void {
    retire(`${e.name}@${e.version}`, { name: e.name, version: e.version, kind: e.kind, state });
    if (timer) publishNow();
  }

  function publishNow(): void {
    try {
      ctx.publisher.publish('models', {}, snapshot());
      if (eventsUnsaved || cadence.due(ctx.clock.now(), plantTs)) save();
    } catch (error) {
      log.error({ err: String(error) }, 'models figures not published');
    }
  }

  function retire(id: string, r: Retired): void {
    retired.delete(id);
    retired.set(id, r);
    while (retired.size > MAX_RETIRED) {
      const oldest = retired.keys().next().value;
      if (oldest === undefined) break;
      retired.delete(oldest);
    }
    const keep = new Set([...retired.keys(), ...ctx.models().map((m) => m.id), ...shadows().map((m) => m.id)]);
    for (const id of tracker.models()) if (!keep.has(id)) tracker.forget(id);
    for (const id of [...detectors.keys()]) if (!keep.has(id)) detectors.delete(id);
  }

  return {
    name: 'lifecycle' as const,
    start(): Promise<void> {
      if (!ctx.config.enabled || timer) return Promise.resolve();
      restore();
      timer = ctx.clock.setInterval(publishNow, ctx.config.publishSec * 1000);
      publishNow();
      return Promise.resolve();
    },
    stop(): Promise<void> {
      if (!timer) return Promise.resolve();
      timer.clear();
      timer = undefined;
      save();
      return Promise.resolve();
    },
    /**
     * After inference: the window's predictions (the active versions' and those in shadow) wait for their
     * horizon, inputs count for drift, detector rows are counted. Returns the predictions judged now.
     */
    onWindow(plant: PlantWindow, outcome: { readonly predictions: readonly PredictionRow[]; readonly anomalies: readonly AnomalyRow[]; readonly shadow?: WindowOutcome['shadow'] }): JudgedPrediction[] {
      if (!timer) return [];
      try {
        plantTs = plant.end;
        for (const id of activatedUnseen) activatedAt.set(id, plant.end);
        activatedUnseen.clear();
        const models = ctx.models();
        const candidates = shadows();
        const judged = tracker.onWindow(plant, [...models, ...candidates].map(tracked), [...outcome.predictions, ...(outcome.shadow?.predictions ?? [])]);
        for (const m of models) newWindows.set(m.id, (newWindows.get(m.id) ?? 0) + 1);
        const ids = new Set([...models, ...candidates].filter((m) => m.kind === 'autoencoder').map((m) => m.id));
        for (const row of [...outcome.anomalies, ...(outcome.shadow?.anomalies ?? [])]) if (ids.has(row.model) && row.verdict !== 'none') detector(row.model).addWindow(row.ts, ownFlag(row));
        return judged;
      } catch (error) {
        log.error({ err: String(error), windowEnd: plant.end }, 'live figures not updated for the window');
        return [];
      }
    },
    /** An operator's verdict on a stage's anomaly alarm counts for that stage's detector. */
    onVerdict(v: { readonly alarmId: string; readonly stage: string; readonly verdict: 'false_alarm' | 'confirmed'; readonly ts: number }): void {
      if (!timer || v.alarmId !== `anomaly.${v.stage}`) return;
      const model = ctx.models().find((m) => m.kind === 'autoencoder' && m.stage === v.stage);
      if (model) detector(model.id).addVerdict(v.ts, v.verdict);
    },
    /** An activation, promotion or rollback; `detail` (a promotion's shadow figures) goes into its model_events row. */
    onActivation(e: ActivationNotice, detail?: unknown): void {
      const id = `${e.name}@${e.version}`;
      const rollback = e.action === 'rollback';
      const why = e.reason ? `: ${e.reason}` : '';
      const reason = rollback
        ? `rolled back from ${e.previous ?? '?'} to ${e.version}${why}`
        : e.action === 'promote'
          ? e.reason ?? `promoted ${e.version}${e.previous ? ` in place of ${e.previous}` : ''}`
          : e.action === 'initial' ? `loaded at start (${e.version})` : `activated ${e.version}${e.previous ? ` in place of ${e.previous}` : ''}`;
      const event = rollback ? 'rollback' : e.action === 'promote' ? 'promotion' : 'activation';
      record({ ts: e.ts, model: id, event, by: e.by, previous: e.previous, reason, detail: JSON.stringify(detail === undefined ? e : { ...e, shadow: detail }) });
      log.info({ model: id, event, previous: e.previous, by: e.by }, `${id}: ${reason}`);
      // a restart loads the same version again: its new windows and its time on this site go on
      if (e.action !== 'initial' || !newWindows.has(id)) newWindows.set(id, 0);
      if (e.action !== 'initial' || !activatedAt.has(id)) {
        if (plantTs !== undefined) activatedAt.set(id, plantTs);
        else activatedUnseen.add(id);
      }
      retired.delete(id);
      if (e.previous) {
        const kind = ctx.models().find((m) => m.name === e.name)?.kind ?? 'model';
        retire(`${e.name}@${e.previous}`, { name: e.name, version: e.previous, kind, state: rollback ? 'rolled_back' : 'inactive' });
      }
      if (timer) publishNow();
    },
    onRefusal(e: RefusalNotice): void {
      const id = `${e.name}@${e.version}`;
      record({ ts: e.ts, model: id, event: 'gate', by: e.by, previous: null, reason: `gate failed: ${e.reason}`, detail: JSON.stringify(e.report ?? { reason: e.reason }) });
      retire(id, { name: e.name, version: e.version, kind: ctx.models().find((m) => m.name === e.name)?.kind ?? 'model', state: 'rejected' });
      if (timer) publishNow();
    },
    /** A candidate trained in the background: one `candidate` row (stamped with the last window's plant time, as triggers are), listed as `candidate` on edge/models. */
    onCandidate(e: CandidateNotice): void {
      record({ ts: plantTs ?? e.ts, model: `${e.name}@${e.version}`, event: 'candidate', by: 'daemon', previous: null, reason: e.reason, detail: JSON.stringify(e.detail) });
      listCandidate(e, 'candidate');
    },
    /** The gate's verdict on a background candidate: one `gate` row; a failed candidate is listed as rejected. */
    onGate(e: GateNotice): void {
      record({ ts: plantTs ?? e.ts, model: `${e.name}@${e.version}`, event: 'gate', by: 'daemon', previous: null, reason: e.reason, detail: JSON.stringify(e.detail) });
      listCandidate(e, e.passed ? 'candidate' : 'rejected');
    },
    /** A candidate started running in shadow: one `shadow` row, listed as `shadow` on edge/models. */
    onShadow(e: ShadowNotice): void {
      const id = `${e.name}@${e.version}`;
      record({ ts: e.ts, model: id, event: 'shadow', by: e.by, previous: null, reason: e.reason, detail: JSON.stringify(e.detail) });
      retired.delete(id);
      if (timer) publishNow();
    },
    /** A candidate refused after (or instead of) its shadow run: one `rejection` row, listed as `rejected`. */
    onRejection(e: ShadowNotice): void {
      const id = `${e.name}@${e.version}`;
      record({ ts: e.ts, model: id, event: 'rejection', by: e.by, previous: null, reason: e.reason, detail: JSON.stringify(e.detail) });
      retire(id, { name: e.name, version: e.version, kind: e.kind, state: 'rejected' });
      if (timer) publishNow();
    },
    /** Called with each active version whose triggers start firing, or keep firing `retrain.retryDays` after its last request (the background retraining). */
    onRetrainingRequested(listener: (r: RetrainRequest) => void): void {
      retrainListeners.push(listener);
    },
    /** The figures as last published (GET /api/v1/models, /metrics). */
    latest(): ModelsMessage | undefined {
      return last;
    },
  };
}
export type ModelLifecycle = ReturnType<typeof createModelLifecycle>;
