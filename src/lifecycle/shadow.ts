/**
 * The figures a shadow run and a rollback watch judge on: per model version, the predictions compared
 * once their horizon passed (sums per `stage.signal@horizonMin`, the accumulator of src/models/metrics.ts)
 * and, for detectors, the windows scored and flagged and the operators' confirmed events it flagged.
 * Plain JSON, so a restart goes on with the same sums. Pure: no clock, no I/O.
 */

import type { LifecycleConfig } from '../config/sections/lifecycle.js';
import { addSample, emptySums, figuresOf, type SkillFigures, type SkillSums } from '../models/metrics.js';
import type { JudgedPrediction } from './tracker.js';

export interface VersionTally {
  skill: Record<string, SkillSums>;
  windows: number;
  flagged: number;
  /** The last windows' flags, newest last (a confirmed event is caught when one of them is set). */
  recent: boolean[];
  /** Confirmed events (operators' verdicts) during the period, and those this version had flagged. */
  confirmed: number;
  caught: number;
}

export interface TallyFigures {
  skill: Record<string, SkillFigures>;
  windows: number;
  flagged: number;
  flagRate: number;
  confirmed: number;
  caught: number;
}

export const emptyTally = (): VersionTally => ({ skill: {}, windows: 0, flagged: 0, recent: [], confirmed: 0, caught: 0 });

export function addJudged(t: VersionTally, p: JudgedPrediction): void {
  const sums = (t.skill[p.key] ??= emptySums());
  addSample(sums, p.predicted, p.measured, p.persistence);
}

export function addWindow(t: VersionTally, flagged: boolean, keep: number): void {
  t.windows += 1;
  if (flagged) t.flagged += 1;
  t.recent.push(flagged);
  if (t.recent.length > keep) t.recent.splice(0, t.recent.length - keep);
}

export function addConfirmed(t: VersionTally): void {
  t.confirmed += 1;
  if (t.recent.some(Boolean)) t.caught += 1;
}

export function tallyFigures(t: VersionTally): TallyFigures {
  const skill: Record<string, SkillFigures> = {};
  for (const [key, sums] of Object.entries(t.skill)) skill[key] = figuresOf([sums]);
  return { skill, windows: t.windows, flagged: t.flagged, flagRate: t.windows > 0 ? t.flagged / t.windows : Number.NaN, confirmed: t.confirmed, caught: t.caught };
}

export interface JudgedCheck {
  readonly target: string;
  readonly passed: boolean;
  readonly candidate: number | null;
  readonly active: number | null;
  readonly why: string;
}

export interface ShadowVerdict {
  readonly promote: boolean;
  readonly checks: readonly JudgedCheck[];
  /** One line: the failed checks when refused, every check when promoted. */
  readonly summary: string;
  /** False when the candidate had too few samples to be judged at all (`minSamples`). */
  readonly judged: boolean;
}

const fig = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? 'none' : v.toFixed(3));
const num = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

function predictorChecks(candidate: TallyFigures, active: TallyFigures | null, cfg: LifecycleConfig['shadow']): JudgedCheck[] {
  const keys = Object.entries(candidate.skill).filter(([, f]) => f.n >= cfg.minSamples).map(([k]) => k).sort();
  if (keys.length === 0) {
    const most = Math.max(0, ...Object.values(candidate.skill).map((f) => f.n));
    return [{ target: 'all', passed: false, candidate: most, active: null, why: `not judged: no target had ${cfg.minSamples} compared predictions in the shadow period (most: ${most})` }];
  }
  return keys.map((target) => {
    const c = candidate.skill[target];
    const a = active?.skill[target];
    const judgedActive = a !== undefined && a.n >= cfg.minSamples && Number.isFinite(a.mseSkill);
    const bar = judgedActive ? a.mseSkill - cfg.skillSlack : 0;
    const passed = c !== undefined && Number.isFinite(c.mseSkill) && (judgedActive ? c.mseSkill >= bar : c.mseSkill > 0);
    const why = judgedActive
      ? `${target}: live MSE skill ${fig(c?.mseSkill)} (MAE ${fig(c?.mae)}, ${c?.n ?? 0} compared) ${passed ? 'at least' : 'below'} the active version's ${fig(a.mseSkill)} (MAE ${fig(a.mae)})${cfg.skillSlack > 0 ? ` less ${cfg.skillSlack}` : ''}`
      : `${target}: live MSE skill ${fig(c?.mseSkill)} (${c?.n ?? 0} compared) ${passed ? 'beats' : 'does not beat'} persistence; the active version was not judged on it`;
    return { target, passed, candidate: num(c?.mseSkill), active: judgedActive ? a.mseSkill : null, why };
  });
}

function detectorChecks(candidate: TallyFigures, active: TallyFigures | null, cfg: LifecycleConfig['shadow']): JudgedCheck[] {
  if (candidate.windows < cfg.minSamples) return [{ target: 'windows', passed: false, candidate: candidate.windows, active: null, why: `not judged: ${candidate.windows} windows scored in the shadow period, ${cfg.minSamples} needed` }];
  const judgedActive = active !== null && active.windows >= cfg.minSamples;
  const rateBar = judgedActive ? active.flagRate + cfg.flagRateSlack : Number.POSITIVE_INFINITY;
  const rateOk = candidate.flagRate <= rateBar;
  const normalOk = candidate.flagRate <= cfg.maxFlagRate;
  const caughtOk = active === null || candidate.caught >= active.caught;
  return [
    { target: 'normal_flag_rate', passed: normalOk, candidate: num(candidate.flagRate), active: null, why: `flag rate ${fig(candidate.flagRate)} over ${candidate.windows} windows ${normalOk ? 'within' : 'above'} the bar of normal operation ${cfg.maxFlagRate}` },
    { target: 'flag_rate', passed: rateOk, candidate: num(candidate.flagRate), active: judgedActive ? active.flagRate : null, why: `flag rate ${fig(candidate.flagRate)} over ${candidate.windows} windows ${rateOk ? 'within' : 'above'} ${judgedActive ? `the active version's ${fig(active.flagRate)} + ${cfg.flagRateSlack}` : 'no bar (active version not judged)'}` },
    { target: 'events_caught', passed: caughtOk, candidate: candidate.caught, active: active?.caught ?? null, why: `caught ${candidate.caught} of ${candidate.confirmed} confirmed events${active ? `, the active version ${active.caught}` : ''}` },
  ];
}

/** The end of a shadow run: promoted when every judged figure is at least the active version's. */
export function judgeShadow(kind: string, candidate: TallyFigures, active: TallyFigures | null, cfg: LifecycleConfig['shadow']): ShadowVerdict {
  const checks = kind === 'autoencoder' ? detectorChecks(candidate, active, cfg) : predictorChecks(candidate, active, cfg);
  const promote = checks.every((c) => c.passed);
  const shown = promote ? checks : checks.filter((c) => !c.passed);
  const judged = !checks.some((c) => c.target === 'all' || c.target === 'windows');
  return { promote, checks, summary: shown.map((c) => c.why).join('; '), judged };
}

/** A promoted version's recent live figures: samples of the last `hours` of plant time. */
export interface RecentState {
  samples: { key: string; dueMs: number; predicted: number; measured: number; persistence: number }[];
  windows: { ts: number; flagged: boolean }[];
}

/** Samples kept per watch at most (a day of 5-min windows for a few dozen targets). */
const MAX_RECENT = 20_000;

export const emptyRecent = (): RecentState => ({ samples: [], windows: [] });

export function addRecent(r: RecentState, judged: readonly JudgedPrediction[], window: { ts: number; flagged: boolean } | undefined, sinceMs: number): void {
  for (const p of judged) r.samples.push({ key: p.key, dueMs: p.dueMs, predicted: p.predicted, measured: p.measured, persistence: p.persistence });
  if (window) r.windows.push(window);
  r.samples = r.samples.filter((s) => s.dueMs >= sinceMs).slice(-MAX_RECENT);
  r.windows = r.windows.filter((w) => w.ts >= sinceMs).slice(-MAX_RECENT);
}

/** A watch's recent samples and windows summed as one tally (the baseline a restored version is judged against). */
export function recentTally(r: RecentState): VersionTally {
  const t = emptyTally();
  for (const s of r.samples) addSample((t.skill[s.key] ??= emptySums()), s.predicted, s.measured, s.persistence);
  for (const w of r.windows) addWindow(t, w.flagged, 1);
  return t;
}

export function recentFigures(r: RecentState): TallyFigures {
  return tallyFigures(recentTally(r));
}

/**
 * How far below a reference skill a version's may fall before it counts as worse: `skillSlack`, or, where the
 * reference is poor, `mseTolerance` of its MSE (skill is 1 - MSE / persistence MSE, so an MSE that much higher
 * is a drop of mseTolerance x (1 - skill)), whichever is larger.
 */
function allowedDrop(reference: number, cfg: LifecycleConfig['rollback']): number {
  return Math.max(cfg.skillSlack, cfg.mseTolerance * (1 - reference));
}

/**
 * Why a promoted version must go back, or null: its recent figures against the previous version's, over the
 * same recent windows when the previous one runs beside it, else over the shadow period (`where` says which).
 */
export function judgeRollback(kind: string, recent: TallyFigures, baseline: TallyFigures, cfg: LifecycleConfig['rollback'], where = 'in shadow', baselineMin = 1): string | null {
  if (kind === 'autoencoder') {
    if (recent.windows < cfg.minSamples || baseline.windows < baselineMin || !Number.isFinite(baseline.flagRate)) return null;
    const bar = baseline.flagRate + cfg.flagRateSlack;
    return recent.flagRate > bar ? `flag rate ${fig(recent.flagRate)} over the last ${recent.windows} windows above the previous version's ${fig(baseline.flagRate)} + ${cfg.flagRateSlack} ${where}` : null;
  }
  const worse: string[] = [];
  for (const [key, f] of Object.entries(recent.skill)) {
    const b = baseline.skill[key];
    if (f.n < cfg.minSamples || b === undefined || b.n < Math.max(1, baselineMin) || !Number.isFinite(b.mseSkill)) continue;
    const allowed = allowedDrop(b.mseSkill, cfg);
    if (!(f.mseSkill >= b.mseSkill - allowed)) worse.push(`${key}: live MSE skill ${fig(f.mseSkill)} over ${f.n} compared below the previous version's ${fig(b.mseSkill)} ${where}${allowed > 0 ? ` less ${fig(allowed)}` : ''}`);
  }
  return worse.length > 0 ? worse.join('; ') : null;
}

export interface BesideVerdict {
  /** Why the promoted version must go back, or null. */
  readonly why: string | null;
  /** Why it stays although it is worse on some targets: the previous version is worse on others, or null. */
  readonly kept: string | null;
}

/**
 * The rollback judged beside the previous version on the same recent windows. Going back must not trade a
 * loss for a larger one: a predictor worse than the previous version on some targets goes back only if the
 * previous version is not worse than it, by more than the allowed drop, on any other (a change of the plant that
 * every version forecasts badly, one worse here and the other there, rolls nothing back).
 */
export function judgeRollbackBeside(kind: string, recent: TallyFigures, beside: TallyFigures, cfg: LifecycleConfig['rollback']): BesideVerdict {
  const why = judgeRollback(kind, recent, beside, cfg, 'beside it on the same windows', cfg.minSamples);
  if (why === null || kind === 'autoencoder') return { why, kept: null };
  const better: string[] = [];
  for (const [key, f] of Object.entries(recent.skill)) {
    const b = beside.skill[key];
    if (f.n < cfg.minSamples || b === undefined || b.n < cfg.minSamples || !Number.isFinite(b.mseSkill)) continue;
    if (f.mseSkill > b.mseSkill + allowedDrop(f.mseSkill, cfg)) better.push(`${key}: live MSE skill ${fig(f.mseSkill)} against the previous version's ${fig(b.mseSkill)}`);
  }
  return better.length > 0 ? { why: null, kept: `the previous version does worse beside it on ${better.join('; ')}` } : { why, kept: null };
}
