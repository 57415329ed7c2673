import { rollbackCondition } from '../alarms/system.js';
import type { LifecycleConfig } from '../config/sections/lifecycle.js';
import type { AlarmSink, PlantWindow, StateStore } from '../contract/ports.js';
import type { Inference, ModelActivationEvent, WindowOutcome } from '../inference/index.js';
import type { LoadedModel } from '../inference/session.js';
import type { Logger } from '../lib/logger.js';
import {
  addConfirmed, addJudged, addRecent, addWindow, emptyRecent, emptyTally, judgeRollback, judgeRollbackBeside, judgeShadow, recentFigures, recentTally, tallyFigures,
  type RecentState, type ShadowVerdict, type VersionTally,
} from './shadow.js';
import { ownFlag } from './detector.js';
import type { JudgedPrediction } from './tracker.js';
import { SaveCadence } from './save-cadence.js';

export const PROMOTION_STATE_KEY = 'models.promotion';
/** The shadow runs' and watches' figures are saved (StateStore, with the next group commit) this often. */
const SAVE_EVERY_PLANT_MS = 15 * 60_000;
const SAVE_EVERY_WALL_MS = 60_000;
/** A shadow run with too few samples at the end of its period goes on up to this many periods. */
const EXTEND_FACTOR = 2;
const HOUR_MS = 3_600_000;
/** Shadow requests of registry.json already handled, kept to skip them after a restart. */
const MAX_HANDLED = 50;

/** A candidate offered for a shadow run (a passed gate of the background retraining, or `models shadow`). */
export interface ShadowOffer {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly kind: string;
  readonly stage: string;
  readonly by: string;
  readonly reason: string;
  /** registry.json's request key (`models shadow`), handled once. */
  readonly request?: string | undefined;
}

/** What the monitor records of a shadow start or a rejection (model_events, edge/models, the log). */
export interface ShadowNotice {
  readonly ts: number;
  readonly name: string;
  readonly version: string;
  readonly kind: string;
  readonly by: string;
  readonly reason: string;
  readonly detail: unknown;
}

export interface PromotionContext {
  readonly config: LifecycleConfig;
  readonly inference: Pick<Inference, 'startShadow' | 'stopShadow' | 'promote' | 'rollback' | 'loaded'>;
  readonly alarms: AlarmSink;
  readonly state: StateStore;
  readonly logger: Logger;
  /** Wall ms (event rows of the starts and rejections before any window). */
  readonly now: () => number;
  readonly onShadow: (e: ShadowNotice) => void;
  readonly onRejection: (e: ShadowNotice) => void;
}

interface ShadowRun {
  name: string;
  version: string;
  id: string;
  kind: string;
  stage: string;
  dir: string;
  /** The active version it runs beside (its figures over the same windows). */
  activeId: string | null;
  /** Plant ms of the first window it ran on. */
  startedAt: number | null;
  candidate: VersionTally;
  active: VersionTally;
  /** A decision was taken; the swap or release is under way. */
  decided?: boolean;
  /** Went on past its period for want of samples (logged once). */
  extended?: boolean;
}

interface Watch {
  name: string;
  version: string;
  previous: string;
  kind: string;
  stage: string;
  promotedAt: number;
  /** The previous version's figures over the shadow period (a restoration watch: its recent figures at the rollback). */
  baseline: VersionTally;
  recent: RecentState;
  /** The previous version's bundle, run in shadow beside the promoted one during the watch. */
  previousDir?: string | undefined;
  /** The previous version's recent figures on the same windows, while it runs beside the promoted one. */
  previousRecent?: RecentState | undefined;
  failuresInRow: number;
  rolling?: boolean;
  /** Worse than the previous version beside it on some targets but kept (it is better on others): logged once per stretch. */
  kept?: boolean;
  /**
   * The watch of the version an automatic rollback went back to, with the version rolled back from (`previous`)
   * beside it: judged the same way, so a rollback decided on a stretch both forecast badly is reversed when the
   * restored version turns out the worse one. A reversal (the version beside promoted again) starts no watch.
   */
  restores?: boolean;
}

interface Persisted {
  shadows: ShadowRun[];
  watches: Watch[];
  handled: string[];
}

/**
 * Shadow, promotion and automatic rollback (issue 15 items 7 and 8). A candidate offered runs in shadow
 * beside the active version of its name on every live window; both versions' live figures are summed
 * over the same windows from its first one. After `shadow.hours` of plant time it is promoted (the
 * registry's atomic swap) when its live skill is at least the active version's, else rejected. A promoted
 * version is watched for `rollback.watchHours` with the previous version in shadow beside it: its live skill
 * over the last `rollback.hours` below the previous version's over the shadow period, and below the previous
 * version's on the same recent windows once that one has enough samples (a stretch no version forecasts
 * well rolls nothing back), or `rollback.failures` failed runs in a row, roll it back to the previous version
 * at once, with the alarm `model.rollback.<name>`. A version restored for its skill is watched the same way
 * for `rollback.watchHours`, with the version rolled back from beside it and that one's figures before the
 * rollback as the baseline: worse than both, it gives way to that version again (once; no further watch).
 */
export function createPromoter(ctx: PromotionContext) {
  const log = ctx.logger.child({ component: 'promotion' });
  const shadow = ctx.config.shadow;
  const rollback = ctx.config.rollback;
  const runs = new Map<string, ShadowRun>();
  const watches = new Map<string, Watch>();
  const handled: string[] = [];
  /** Promotion figures per `name@version`, for the promotion's model_events row. */
  const verdicts = new Map<string, unknown>();
  let started = false;
  let plantTs: number | undefined;

  const eventTs = (): number => plantTs ?? ctx.now();
  const activeOf = (name: string): LoadedModel | undefined => ctx.inference.loaded().find((m) => m.name === name);

  const cadence = new SaveCadence(SAVE_EVERY_WALL_MS, SAVE_EVERY_PLANT_MS);
  function save(): void {
    const data: Persisted = { shadows: [...runs.values()].filter((r) => !r.decided), watches: [...watches.values()], handled };
    ctx.state.setState(PROMOTION_STATE_KEY, data);
    cadence.saved(ctx.now(), plantTs);
  }

  function reject(run: ShadowRun, reason: string, detail: unknown): void {
    run.decided = true;
    runs.delete(run.name);
    ctx.inference.stopShadow(run.name);
    log.warn({ model: run.id, reason }, `${run.id} rejected: ${reason}`);
    ctx.onRejection({ ts: eventTs(), name: run.name, version: run.version, kind: run.kind, by: 'daemon', reason: `rejected after its shadow run: ${reason}`, detail });
    save();
  }

  function decide(run: ShadowRun): void {
    const candidate = tallyFigures(run.candidate);
    const active = run.activeId ? tallyFigures(run.active) : null;
    const verdict: ShadowVerdict = judgeShadow(run.kind, candidate, active, shadow);
    const detail = { candidate: run.id, active: run.activeId, since: run.startedAt, until: plantTs, hours: shadow.hours, checks: verdict.checks, figures: { candidate, active } };
    // Too few samples (an analyzer out, a restart): the run goes on, up to twice its period, before it is rejected.
    if (!verdict.judged && run.startedAt !== null && plantTs !== undefined && plantTs - run.startedAt < EXTEND_FACTOR * shadow.hours * HOUR_MS) {
      if (!run.extended) log.info({ model: run.id, why: verdict.summary }, `${run.id}: shadow run goes on past ${shadow.hours} h: ${verdict.summary}`);
      run.extended = true;
      return;
    }
    if (!verdict.promote) {
      reject(run, verdict.summary, detail);
      return;
    }
    run.decided = true;
    const reason = `promoted after ${shadow.hours} h in shadow${run.activeId ? ` beside ${run.activeId}` : ''}: ${verdict.summary}`;
    verdicts.set(run.id, detail);
    const promotedAt = plantTs ?? ctx.now();
    const previousDir = activeOf(run.name)?.dir;
    ctx.inference.promote(run.name, run.version, reason).then((event) => {
      runs.delete(run.name);
      ctx.alarms.clear(`model.rollback.${run.name}`, promotedAt, `${run.id} promoted`);
      if (rollback.enabled && event.previous) {
        const w: Watch = { name: run.name, version: run.version, previous: event.previous, kind: run.kind, stage: run.stage, promotedAt, baseline: run.active, recent: emptyRecent(), failuresInRow: 0, previousDir };
        watches.set(run.name, w);
        runBeside(w);
      }
      save();
    }, (error: unknown) => {
      runs.delete(run.name);
      reject(run, `promotion failed: ${error instanceof Error ? error.message : String(error)}`, detail);
    });
  }

  /**
   * The previous version runs in shadow beside the promoted one during the watch (its own shadow slot, role
   * `previous`: a candidate offered meanwhile runs in the candidate's), so the rollback judges both on the
   * same windows; only a previous version that cannot be loaded leaves its shadow-period figures to judge.
   */
  function runBeside(w: Watch): void {
    if (!w.previousDir) return;
    const previousId = `${w.name}@${w.previous}`;
    ctx.inference.startShadow(w.name, w.previous, w.previousDir, 'previous').then(() => {
      if (watches.get(w.name) !== w) {
        ctx.inference.stopShadow(w.name, 'previous');
        return;
      }
      w.previousRecent ??= emptyRecent();
      log.info({ model: `${w.name}@${w.version}`, previous: previousId }, `${previousId} runs in shadow beside ${w.name}@${w.version} while it is watched`);
    }, (error: unknown) => {
      w.previousDir = undefined;
      log.warn({ model: previousId, err: String(error) }, `${previousId} not run beside the promoted version: the watch judges against its shadow-period figures`);
    });
  }

  /** The watch is over (ended, rolled back, replaced): the previous version's shadow run beside it stops. */
  function endWatch(w: Watch): void {
    watches.delete(w.name);
    if (w.previousDir !== undefined) ctx.inference.stopShadow(w.name, 'previous');
    w.previousRecent = undefined;
  }

  /**
   * Back to the previous version; a watch that restored one goes forward to the version it replaced (the
   * rollback reversed). After a rollback for skill (not for failed runs) the restored version is watched with
   * the version rolled back from beside it.
   */
  function rollBack(w: Watch, why: string, failed = false): void {
    if (w.rolling) return;
    w.rolling = true;
    const id = `${w.name}@${w.version}`;
    const reversal = `the rollback from ${w.previous} to ${w.version} reversed`;
    const reason = w.restores ? `${id} replaced by ${w.previous} again, ${reversal}: ${why}` : `${id} rolled back to ${w.previous}: ${why}`;
    log.error({ model: id, previous: w.previous, why }, reason);
    const ts = eventTs();
    const fromDir = activeOf(w.name)?.dir;
    const before = recentTally(w.recent);
    const swap = w.restores ? ctx.inference.promote(w.name, w.previous, `${reversal}: ${why}`, 'previous') : ctx.inference.rollback(w.name, why);
    swap.then((event) => {
      endWatch(w);
      ctx.alarms.raise(rollbackCondition(w.name, w.stage, w.version, event.version, w.restores ? `${reversal}: ${why}` : why), ts);
      if (!w.restores && !failed && fromDir !== undefined) {
        const restored: Watch = { name: w.name, version: event.version, previous: w.version, kind: w.kind, stage: w.stage, promotedAt: plantTs ?? ts, baseline: before, recent: emptyRecent(), failuresInRow: 0, previousDir: fromDir, restores: true };
        watches.set(w.name, restored);
        runBeside(restored);
      }
      save();
    }, (error: unknown) => {
      w.rolling = false;
      log.error({ model: id, err: String(error) }, `${id}: automatic rollback failed`);
    });
  }

  function onShadowWindow(run: ShadowRun, plant: PlantWindow, outcome: WindowOutcome, judged: readonly JudgedPrediction[]): void {
    const active = activeOf(run.name)?.id ?? null;
    if (active !== run.activeId) {
      // another version was activated beside the run: the comparison starts again on the same windows
      log.info({ model: run.id, was: run.activeId, now: active }, `${run.id}: active version changed during the shadow run, its figures start again`);
      Object.assign(run, { activeId: active, startedAt: null, candidate: emptyTally(), active: emptyTally() });
    }
    const failed = outcome.shadow.failures.find((f) => f.name === run.name);
    if (failed) {
      reject(run, `failed at inference in shadow: ${failed.error}`, { candidate: run.id, error: failed.error, windowEnd: plant.end });
      return;
    }
    run.startedAt ??= plant.end;
    for (const p of judged) {
      if (p.model === run.id) addJudged(run.candidate, p);
      else if (p.model === run.activeId) addJudged(run.active, p);
    }
    // a window without a verdict (inputs missing) counts for neither; each version by its own flag (a sensor check flags every version alike)
    for (const a of outcome.shadow.anomalies) if (a.model === run.id && a.verdict !== 'none') addWindow(run.candidate, ownFlag(a), shadow.eventWindows);
    for (const a of outcome.anomalies) if (a.model === run.activeId && a.verdict !== 'none') addWindow(run.active, ownFlag(a), shadow.eventWindows);
    if (plant.end - run.startedAt >= shadow.hours * HOUR_MS) decide(run);
  }

  function onWatchWindow(w: Watch, plant: PlantWindow, outcome: WindowOutcome, judged: readonly JudgedPrediction[]): void {
    const id = `${w.name}@${w.version}`;
    if (w.rolling) return;
    if (activeOf(w.name)?.version !== w.version) {
      endWatch(w);
      return;
    }
    const failed = outcome.failures.find((f) => f.name === w.name);
    w.failuresInRow = failed ? w.failuresInRow + 1 : 0;
    if (failed && w.failuresInRow >= rollback.failures) {
      rollBack(w, `failed at inference ${w.failuresInRow} window${w.failuresInRow > 1 ? 's' : ''} in a row: ${failed.error}`, true);
      return;
    }
    const row = outcome.anomalies.find((a) => a.model === id && a.verdict !== 'none');
    const since = plant.end - rollback.hours * HOUR_MS;
    addRecent(w.recent, judged.filter((p) => p.model === id), row ? { ts: row.ts, flagged: ownFlag(row) } : undefined, since);
    // Beside it on the same windows while the previous version runs in shadow.
    const previousId = `${w.name}@${w.previous}`;
    if (w.previousRecent !== undefined) {
      const prev = outcome.shadow.anomalies.find((a) => a.model === previousId && a.verdict !== 'none');
      addRecent(w.previousRecent, judged.filter((p) => p.model === previousId), prev ? { ts: prev.ts, flagged: ownFlag(prev) } : undefined, since);
    }
    // Worse than the previous version was over the shadow period; and, while the previous one runs beside it,
    // worse than it on the same recent windows too, judged once it has minSamples there, and not better than it
    // on any other target there: a stretch of plant that no version forecasts well rolls nothing back. Only a
    // previous version that could not be loaded beside it leaves the shadow-period figures alone to judge.
    const recentNow = recentFigures(w.recent);
    const againstShadow = judgeRollback(w.kind, recentNow, tallyFigures(w.baseline), rollback, w.restores ? 'before the rollback' : 'in shadow');
    let why = againstShadow;
    if (againstShadow !== null && w.previousDir !== undefined) {
      const beside = w.previousRecent !== undefined ? judgeRollbackBeside(w.kind, recentNow, recentFigures(w.previousRecent), rollback) : { why: null, kept: null };
      why = beside.why && `${againstShadow}; ${beside.why}`;
      if (beside.kept !== null && !w.kept) log.info({ model: id, previous: previousId, why: beside.kept }, `${id} stays active though worse on some targets: ${beside.kept}`);
      w.kept = beside.kept !== null;
    }
    if (why) {
      rollBack(w, why);
      return;
    }
    if (plant.end - w.promotedAt >= rollback.watchHours * HOUR_MS) {
      endWatch(w);
      log.info({ model: id }, `${id}: watched ${rollback.watchHours} h after its ${w.restores ? 'restoration' : 'promotion'} without a rollback`);
    }
  }

  async function begin(offer: ShadowOffer): Promise<void> {
    const id = `${offer.name}@${offer.version}`;
    const before = runs.get(offer.name);
    if (before?.version === offer.version) return;
    if (before) reject(before, `superseded by ${id}`, { supersededBy: id });
    try {
      await ctx.inference.startShadow(offer.name, offer.version, offer.dir);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      ctx.onRejection({ ts: eventTs(), name: offer.name, version: offer.version, kind: offer.kind, by: 'daemon', reason: `not run in shadow: ${why}`, detail: { dir: offer.dir, error: why } });
      return;
    }
    const activeId = activeOf(offer.name)?.id ?? null;
    runs.set(offer.name, { name: offer.name, version: offer.version, id, kind: offer.kind, stage: offer.stage, dir: offer.dir, activeId, startedAt: null, candidate: emptyTally(), active: emptyTally() });
    const reason = `in shadow for ${shadow.hours} h of plant time${activeId ? ` beside ${activeId}` : ''}: ${offer.reason}`;
    log.info({ model: id, dir: offer.dir, active: activeId, hours: shadow.hours }, `${id} ${reason}`);
    ctx.onShadow({ ts: eventTs(), name: offer.name, version: offer.version, kind: offer.kind, by: offer.by, reason, detail: { dir: offer.dir, active: activeId, hours: shadow.hours, request: offer.request ?? null } });
    save();
  }

  return {
    name: 'promotion' as const,
    async start(): Promise<void> {
      if (started) return;
      started = true;
      const saved = ctx.state.getState<Persisted>(PROMOTION_STATE_KEY);
      handled.push(...(saved?.handled ?? []));
      for (const w of saved?.watches ?? []) {
        const watch: Watch = { ...w, rolling: false, previousRecent: undefined };
        watches.set(w.name, watch);
        runBeside(watch);
      }
      for (const run of saved?.shadows ?? []) {
        try {
          await ctx.inference.startShadow(run.name, run.version, run.dir);
          runs.set(run.name, run);
          log.info({ model: run.id }, `${run.id}: shadow run goes on after the restart`);
        } catch (error) {
          ctx.onRejection({ ts: ctx.now(), name: run.name, version: run.version, kind: run.kind, by: 'daemon', reason: `shadow run not resumed: ${error instanceof Error ? error.message : String(error)}`, detail: { dir: run.dir } });
        }
      }
    },
    stop(): Promise<void> {
      if (started) save();
      started = false;
      return Promise.resolve();
    },
    /** A candidate to run in shadow; `offer.request` (registry.json) is taken once. */
    offer(offer: ShadowOffer): void {
      if (!started) return;
      if (offer.request !== undefined) {
        if (handled.includes(offer.request)) return;
        handled.push(offer.request);
        if (handled.length > MAX_HANDLED) handled.splice(0, handled.length - MAX_HANDLED);
      }
      begin(offer).catch((error: unknown) => log.error({ model: `${offer.name}@${offer.version}`, err: String(error) }, 'shadow run not started'));
    },
    /** After the monitor judged the window's predictions: shadow figures, promotion at the period's end, rollback watch. */
    onWindow(plant: PlantWindow, outcome: WindowOutcome, judged: readonly JudgedPrediction[]): void {
      if (!started) return;
      plantTs = plant.end;
      try {
        for (const run of [...runs.values()]) if (!run.decided) onShadowWindow(run, plant, outcome, judged);
        for (const w of [...watches.values()]) onWatchWindow(w, plant, outcome, judged);
      } catch (error) {
        log.error({ err: String(error), windowEnd: plant.end }, 'shadow and rollback figures not updated for the window');
      }
      // a kill -9 or a power cut loses at most the last SAVE_EVERY of a shadow run's or a watch's figures
      if ((runs.size > 0 || watches.size > 0) && cadence.due(ctx.now(), plant.end)) save();
    },
    /** A confirmed event on a stage's anomaly alarm counts for the detectors in shadow on that stage, and their active ones. */
    onVerdict(v: { readonly alarmId: string; readonly stage: string; readonly verdict: 'false_alarm' | 'confirmed' }): void {
      if (v.verdict !== 'confirmed' || v.alarmId !== `anomaly.${v.stage}`) return;
      for (const run of runs.values()) {
        if (run.kind !== 'autoencoder' || run.stage !== v.stage) continue;
        addConfirmed(run.candidate);
        addConfirmed(run.active);
      }
    },
    /** An activation by someone else ends the watch of the version it replaced; one of the candidate itself ends its run. */
    onActivation(e: ModelActivationEvent): void {
      const run = runs.get(e.name);
      if (run && !run.decided && e.version === run.version) {
        runs.delete(e.name);
        ctx.inference.stopShadow(e.name);
      }
      const w = watches.get(e.name);
      if (w && e.version !== w.version && !w.rolling) endWatch(w);
    },
    /** The shadow figures a promotion was decided on (its model_events detail). */
    verdictOf(id: string): unknown {
      return verdicts.get(id);
    },
    /** The versions in shadow now, `name@version`. */
    inShadow(): string[] {
      return [...runs.values()].filter((r) => !r.decided).map((r) => r.id);
    },
  };
}
export type Promoter = ReturnType<typeof createPromoter>;
