import Database from 'better-sqlite3';
import type { EdgeConfig } from '../config/schema.js';
import type { LifecycleConfig } from '../config/sections/lifecycle.js';
import { EdgeError } from '../lib/lifecycle.js';
import { readBundle } from '../onnx/bundle.js';
import type { Eligibility } from '../onnx/manifest.js';
import { evaluateModels, type DetectorEvaluation, type Evaluation, type TargetEvaluation } from '../models/evaluate.js';
import { judgeEpisodes, type JudgedFigures } from '../models/judged-episodes.js';

const DAY_MS = 86_400_000;

/** One bar of the gate, with the candidate's and the active version's figure where there is one. */
export interface GateCheck {
  readonly check: 'judged' | 'beats_persistence' | 'not_worse' | 'published' | 'flag_rate' | 'events_caught' | 'false_alarms';
  /** `stage.signal@horizonMin` (predictors) or the detector's stage. */
  readonly target: string;
  readonly passed: boolean;
  readonly candidate: number | null;
  readonly active: number | null;
  /** The figure the candidate had to reach (or stay under). */
  readonly bar: number | null;
  readonly why: string;
}

/** What the gate found, kept whole in `model_events.detail`. */
export interface GateReport {
  readonly candidate: string;
  readonly active: string | null;
  readonly since: string;
  readonly until: string;
  readonly windows: number;
  readonly passed: boolean;
  readonly checks: readonly GateCheck[];
  /** The failed checks, one line each. */
  readonly reasons: readonly string[];
  /** Detectors over every alarm episode operators judged in the store (absent when none was judged). */
  readonly verdicts?: readonly JudgedFigures[] | undefined;
}

export interface GateOptions {
  readonly config: Pick<EdgeConfig, 'windows' | 'signals'> & { readonly alarms?: Pick<EdgeConfig['alarms'], 'onDelaySec'> | undefined };
  readonly gate: LifecycleConfig['gate'];
  /** The store file whose most recent readings form the block. */
  readonly store: string;
  /** Start of the block, else the store's last `gate.heldOutDays` days. */
  readonly since?: number | undefined;
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);
const fmt = (v: number | null, digits = 3): string => (v === null ? 'none' : v.toFixed(digits));

function lastReading(path: string): number {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new EdgeError('STORE_UNREADABLE', `cannot open the store ${path}: ${error instanceof Error ? error.message : String(error)}`, 2);
  }
  try {
    const row = db.prepare('SELECT MAX(ts) AS ts FROM readings').get() as { ts: number | null };
    if (row.ts === null) throw new EdgeError('EVALUATE_NO_DATA', `the store ${path} holds no readings to judge the candidate on`, 2);
    return row.ts;
  } finally {
    db.close();
  }
}

/** Start of the block: the last days of the store, not before the candidate's own held-out block. */
async function blockStart(candidateDir: string, opts: GateOptions): Promise<number> {
  if (opts.since !== undefined) return opts.since;
  const recent = lastReading(opts.store) - opts.gate.heldOutDays * DAY_MS;
  const { manifest } = await readBundle(candidateDir);
  const heldOut = Date.parse(manifest.learntFrom?.heldOut?.first ?? manifest.learntFrom?.last ?? '');
  return Number.isFinite(heldOut) ? Math.max(recent, heldOut) : recent;
}

const key = (t: TargetEvaluation): string => `${t.stage}.${t.signal}@${t.horizonMin}`;

function predictorChecks(candidate: readonly TargetEvaluation[], active: readonly TargetEvaluation[], gate: LifecycleConfig['gate']): GateCheck[] {
  const checks: GateCheck[] = [];
  for (const c of candidate) {
    const target = key(c);
    if (c.n === 0) {
      checks.push({ check: 'judged', target, passed: false, candidate: 0, active: null, bar: 1, why: `${target}: no prediction could be compared on the block` });
      continue;
    }
    const skill = finite(c.mseSkill);
    checks.push({ check: 'beats_persistence', target, passed: skill !== null && skill > gate.minSkill, candidate: skill, active: null, bar: gate.minSkill, why: `${target}: MSE skill over persistence ${fmt(skill)} must be above ${gate.minSkill}` });
    const a = active.find((x) => key(x) === target && x.n > 0);
    if (!a) continue;
    const bar = a.mse * (1 + gate.tolerance);
    checks.push({ check: 'not_worse', target, passed: c.mse <= bar, candidate: finite(c.mse), active: finite(a.mse), bar: finite(bar), why: `${target}: MSE ${fmt(finite(c.mse), 4)} must not exceed the active version's ${fmt(finite(a.mse), 4)} by more than ${(gate.tolerance * 100).toFixed(0)} %` });
  }
  return checks;
}

/**
 * The skill bar of training (eligibility): a candidate that would publish none of its targets (none met
 * the bar on its held-out block) is no predictor, whatever its figures on the gate's block.
 */
function publishingChecks(candidate: string, eligibility: Eligibility | undefined): GateCheck[] {
  const entries = Object.entries(eligibility?.targets ?? {});
  if (entries.length === 0 || entries.some(([, e]) => e.eligible)) return [];
  return [{ check: 'published', target: candidate, passed: false, candidate: 0, active: null, bar: 1, why: `publishes none of its ${entries.length} targets: none met the skill bar on its held-out block (${entries[0]?.[1].reason ?? 'no target'})` }];
}

/**
 * The operators' verdicts anywhere in the store: the candidate must catch every confirmed event the
 * active version caught, and raise none of the marked false alarms again, or fewer than the active one.
 */
function verdictChecks(target: string, c: JudgedFigures | undefined, a: JudgedFigures | undefined): GateCheck[] {
  if (!c || !a) return [];
  const checks: GateCheck[] = [];
  const key = (e: { alarmId: string; start: number }): string => `${e.alarmId}@${e.start}`;
  const mine = new Map(c.episodes.map((e) => [key(e), e]));
  const wanted = a.episodes.filter((e) => e.verdict === 'confirmed' && e.flagged);
  if (wanted.length > 0) {
    const missed = wanted.filter((e) => mine.get(key(e))?.flagged !== true);
    const when = missed.map((e) => new Date(e.start).toISOString()).join(', ');
    checks.push({
      check: 'events_caught', target, passed: missed.length === 0, candidate: wanted.length - missed.length, active: wanted.length, bar: wanted.length,
      why: `${target}: caught ${wanted.length - missed.length} of the ${wanted.length} confirmed events the active version caught${missed.length > 0 ? ` (missed the ones raised at ${when})` : ''}`,
    });
  }
  if (c.falseAlarms > 0) {
    const raised = c.falseAlarmsRaised;
    const bar = a.falseAlarmsRaised > 0 ? a.falseAlarmsRaised - 1 : 0;
    checks.push({
      check: 'false_alarms', target, passed: raised <= bar, candidate: raised, active: a.falseAlarmsRaised, bar,
      why: `${target}: raises ${raised} of the ${c.falseAlarms} alarms operators marked false; must raise none, or fewer than the active version's ${a.falseAlarmsRaised}`,
    });
  }
  return checks;
}

function detectorChecks(candidate: readonly DetectorEvaluation[], active: readonly DetectorEvaluation[], gate: LifecycleConfig['gate'], verdicts: readonly JudgedFigures[]): GateCheck[] {
  const checks: GateCheck[] = [];
  for (const c of candidate) {
    const target = c.stage;
    if (c.windows === 0) {
      checks.push({ check: 'judged', target, passed: false, candidate: 0, active: null, bar: 1, why: `${target}: no window could be scored on the block` });
      continue;
    }
    const share = finite(c.flaggedShare);
    checks.push({ check: 'flag_rate', target, passed: share !== null && share <= gate.maxFlagRate, candidate: share, active: null, bar: gate.maxFlagRate, why: `${target}: flagged share ${fmt(share)} must not exceed ${gate.maxFlagRate} (normal operation)` });
    const a = active.find((x) => x.stage === c.stage && x.windows > 0);
    if (!a) continue;
    const bar = a.flaggedShare + gate.flagRateSlack;
    checks.push({ check: 'flag_rate', target, passed: c.flaggedShare <= bar, candidate: finite(c.flaggedShare), active: finite(a.flaggedShare), bar: finite(bar), why: `${target}: flagged share ${fmt(finite(c.flaggedShare))} must stay within ${gate.flagRateSlack} of the active version's ${fmt(finite(a.flaggedShare))}` });
    const judged = verdictChecks(target, verdicts.find((v) => v.model === c.model), verdicts.find((v) => v.model === a.model));
    checks.push(...judged);
    // Without the episodes' replay: the confirmed events of the block, by recall.
    if (!judged.some((j) => j.check === 'events_caught') && a.events && a.events.events > 0 && !verdicts.some((v) => v.model === a.model && v.confirmed > 0)) {
      const caught = finite(c.events?.recall ?? Number.NaN) ?? 0;
      const wanted = finite(a.events.recall) ?? 0;
      checks.push({ check: 'events_caught', target, passed: caught >= wanted, candidate: caught, active: wanted, bar: wanted, why: `${target}: recall of the confirmed events ${fmt(caught, 2)} must reach the active version's ${fmt(wanted, 2)}` });
    }
  }
  return checks;
}

/** Pure: the checks of a candidate against the active version on one evaluation of both. */
export function judgeGate(evaluation: Evaluation, candidate: string, active: string | null, gate: LifecycleConfig['gate'], verdicts: readonly JudgedFigures[] = [], eligibility?: Eligibility): GateReport {
  const checks: GateCheck[] = [];
  const skipped = evaluation.skipped.find((s) => s.model.includes(candidate.replace('@', '/')) || s.model === candidate);
  if (skipped) checks.push({ check: 'judged', target: candidate, passed: false, candidate: null, active: null, bar: null, why: `not judged: ${skipped.why}` });
  const mine = <T extends { model: string }>(rows: readonly T[], id: string | null): T[] => rows.filter((r) => r.model === id);
  checks.push(...predictorChecks(mine(evaluation.predictors, candidate), mine(evaluation.predictors, active), gate));
  checks.push(...publishingChecks(candidate, eligibility));
  checks.push(...detectorChecks(mine(evaluation.detectors, candidate), mine(evaluation.detectors, active), gate, verdicts));
  if (checks.length === 0) checks.push({ check: 'judged', target: candidate, passed: false, candidate: null, active: null, bar: null, why: 'nothing of the candidate could be judged on the block' });
  const reasons = checks.filter((c) => !c.passed).map((c) => c.why);
  return { candidate, active, since: evaluation.since, until: evaluation.until, windows: evaluation.windows, passed: reasons.length === 0, checks, reasons, ...(verdicts.length > 0 ? { verdicts } : {}) };
}

/**
 * The quality gate (issue 15 item 5, the part that judges quality): the candidate bundle and the active
 * one run over the same most recent block of the store (`models evaluate`'s code); each predictor target
 * must beat persistence (MSE skill above `gate.minSkill`) and not be worse than the active version
 * (MSE within `gate.tolerance`), and the candidate must publish a target (its manifest's eligibility:
 * the skill bar on its held-out block); each detector must flag at most `gate.maxFlagRate` of the block's windows
 * and keep its flagged share within `gate.flagRateSlack` of the active one's, catch every operator-confirmed event of its stage the active one caught, and raise
 * none of the alarms operators marked false again (or fewer than the active one): both replayed over
 * every judged episode in the store, not only the block (src/models/judged-episodes.ts).
 */
export async function qualityGate(candidateDir: string, activeDir: string | undefined, opts: GateOptions): Promise<GateReport> {
  const since = await blockStart(candidateDir, opts);
  const candidate = (await readBundle(candidateDir)).manifest;
  const active = activeDir ? (await readBundle(activeDir)).manifest : undefined;
  const dirs = activeDir ? [candidateDir, activeDir] : [candidateDir];
  const [evaluation, verdicts] = await Promise.all([
    evaluateModels(dirs, { config: opts.config, store: opts.store, since }),
    candidate.kind === 'autoencoder' && active ? judgeEpisodes(dirs, { config: opts.config, store: opts.store }) : Promise.resolve([]),
  ]);
  return judgeGate(evaluation, `${candidate.name}@${candidate.version}`, active ? `${active.name}@${active.version}` : null, opts.gate, verdicts, candidate.eligibility);
}

/** One line for the log and the model_events reason. */
export function gateSummary(report: GateReport): string {
  const judged = `on ${report.windows} windows from ${report.since}${report.active ? ` against ${report.active}` : ''}`;
  return report.passed ? `gate passed ${judged} (${report.checks.length} checks)` : `gate failed ${judged}: ${report.reasons.join('; ')}`;
}
