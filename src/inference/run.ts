import type { PlantWindow } from '../contract/ports.js';
import type { AnomalyRow, PredictionRow } from '../contract/rows.js';
import type { StageId } from '../contract/plant.js';
import { OnlineDetector, manifestScoring } from '../anomaly/online.js';
import { isEligible, targetEligible } from './eligibility.js';
import { buildInputVector, currentValue, readInputs, type MissingInput, type WindowHistory } from './features.js';
import type { ModelRegistry } from './registry.js';
import { runSession, type LoadedModel } from './session.js';

export interface Contributor {
  readonly signal: string;
  readonly share: number;
}

/**
 * How much of a stage detector's input row a window had: every input (`scored`), some (`partial`: scored
 * from the inputs there, the missing ones held at their smoothed level and left out of the score, as
 * `anomaly score` does), or none of its signals (`none`: no verdict, no score, never anomalous).
 */
export type DetectorVerdict = 'scored' | 'partial' | 'none';

export interface StageScore {
  readonly stage: StageId;
  readonly model: string;
  /** Null when the window gave no verdict. */
  readonly score: number | null;
  readonly threshold: number;
  readonly contributors: readonly Contributor[];
  /** The detector's verdict on this window (threshold, persistence and hold as fitted); false without one. */
  readonly flag: boolean;
  readonly verdict: DetectorVerdict;
  /** The inputs the window lacked (absent, stale or not finite), empty when scored in full. */
  readonly missing: readonly MissingInput[];
}

export interface SkippedModel {
  readonly model: string;
  readonly missing: readonly MissingInput[];
}

export interface ModelFailure {
  readonly name: string;
  readonly model: string;
  readonly error: Error;
}

export interface ModelRuns {
  readonly scores: StageScore[];
  readonly predictions: PredictionRow[];
  readonly skipped: SkippedModel[];
  readonly failures: ModelFailure[];
  /** Models that ran fine this window (their failure alarm may clear). */
  readonly succeeded: string[];
}

/** Shares of the row score per signal (each input's term, features of one signal summed), largest first. */
export function contributorsOf(model: LoadedModel, terms: readonly number[], limit = 5): Contributor[] {
  const bySignal = new Map<string, number>();
  let total = 0;
  model.inputs.forEach((input, j) => {
    const e = terms[j] ?? 0;
    total += e;
    bySignal.set(input.signal, (bySignal.get(input.signal) ?? 0) + e);
  });
  if (!(total > 0)) return [];
  return [...bySignal.entries()]
    .map(([signal, e]) => ({ signal, share: Number((e / total).toFixed(4)) }))
    .sort((a, b) => b.share - a.share)
    .slice(0, limit);
}

/**
 * Each active stage detector's state across windows (input smoothing, score window, persistence, hold),
 * by `name@version`: a newly activated version starts afresh.
 */
export class DetectorStates {
  private readonly states = new Map<string, OnlineDetector>();

  of(model: LoadedModel): OnlineDetector {
    let state = this.states.get(model.id);
    if (!state) {
      state = new OnlineDetector(manifestScoring(model.manifest));
      this.states.set(model.id, state);
    }
    return state;
  }

  /** Forgets the versions that are no longer active. */
  keep(ids: ReadonlySet<string>): void {
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id);
  }
}

/**
 * One window through a stage detector, scored from the inputs it has: the missing ones go in as NaN
 * (OnlineDetector holds their smoothed level and leaves them out of the row score, as offline), and a
 * window without any of its signals advances the detector's state but gets no verdict.
 */
async function scoreStage(model: LoadedModel, window: PlantWindow, detectors: DetectorStates, history?: WindowHistory): Promise<StageScore> {
  if (!model.stage) throw new Error(`${model.id} watches no single stage`);
  const width = model.inputs.length;
  const row = readInputs(window, model.inputs, history);
  const signalInputs = model.inputs.filter((i) => !i.calendar).length;
  const detector = detectors.of(model);
  const verdict = await detector.next(row.values, async (input) => {
    const out = await runSession(model.session, input, width);
    const squaredError = out['squared_error'];
    if (!squaredError) throw new Error(`${model.id} returned no squared_error`);
    return { squaredError, standardized: out['standardized'] };
  });
  const base = { stage: model.stage, model: model.id, threshold: detector.threshold, missing: row.missing };
  if (row.missing.length >= signalInputs) return { ...base, score: null, contributors: [], flag: false, verdict: 'none' };
  if (!Number.isFinite(verdict.score)) throw new Error(`${model.id} returned no finite score`);
  return { ...base, score: verdict.score, contributors: contributorsOf(model, verdict.terms), flag: verdict.flag, verdict: row.missing.length > 0 ? 'partial' : 'scored' };
}

type Outcome =
  | { kind: 'score'; value: StageScore }
  | { kind: 'predictions'; value: PredictionRow[] }
  | { kind: 'skipped'; value: SkippedModel }
  | { kind: 'failed'; value: ModelFailure }
  | { kind: 'none' };

type Acquire = (name: string) => ReturnType<ModelRegistry['acquire']>;

async function runOne(registry: ModelRegistry, acquire: Acquire, name: string, window: PlantWindow, unitOf: (stage: StageId, signal: string) => string, detectors: DetectorStates, history?: WindowHistory): Promise<Outcome> {
  const slot = acquire(name);
  if (!slot) return { kind: 'none' };
  const model = slot.model;
  try {
    // A predictor that met the bar for none of its targets is not active on this plant (said at activation).
    if (!isEligible(model)) return { kind: 'none' };
    const width = model.inputs.length;
    if (model.kind === 'autoencoder') return { kind: 'score', value: await scoreStage(model, window, detectors, history) };
    const vector = buildInputVector(window, model.inputs, history);
    if (!vector.ok) return { kind: 'skipped', value: { model: model.id, missing: vector.missing } };
    const out = await runSession(model.session, vector.values, width);
    const prediction = out['prediction'];
    if (!prediction || prediction.length !== model.targets.length) throw new Error(`${model.id} returned ${prediction?.length ?? 0} predictions for ${model.targets.length} targets`);
    const rows: PredictionRow[] = [];
    model.targets.forEach((target, j) => {
      const value = prediction[j];
      // A non-finite prediction is a model failure, never a published value.
      if (value === undefined || !Number.isFinite(value)) throw new Error(`${model.id} predicted a non-finite ${target.stage}.${target.signal}`);
      if (!targetEligible(model, target)) return;
      const persistence = currentValue(window, target);
      rows.push({ stage: target.stage, signal: target.signal, ts: window.end, horizonMin: target.horizonMin, value, unit: unitOf(target.stage, target.signal), model: model.id, persistence });
    });
    return { kind: 'predictions', value: rows };
  } catch (error) {
    return { kind: 'failed', value: { name, model: model.id, error: error instanceof Error ? error : new Error(String(error)) } };
  } finally {
    registry.release(slot);
  }
}

/** Every active model on one plant window; a failing or starved model never stops the others. */
export function runModels(registry: ModelRegistry, window: PlantWindow, unitOf: (stage: StageId, signal: string) => string, detectors: DetectorStates, history?: WindowHistory): Promise<ModelRuns> {
  const names = registry.names();
  detectors.keep(new Set(names.flatMap((n) => registry.get(n)?.id ?? [])));
  return collect(names, names.map((name) => runOne(registry, (n) => registry.acquire(n), name, window, unitOf, detectors, history)));
}

/** Every candidate in shadow on the same window, with its own detector states (nothing of it is published). */
export function runShadows(registry: ModelRegistry, window: PlantWindow, unitOf: (stage: StageId, signal: string) => string, detectors: DetectorStates, history?: WindowHistory): Promise<ModelRuns> {
  const names = registry.shadowNames();
  detectors.keep(new Set(names.flatMap((n) => registry.getShadow(n)?.id ?? [])));
  return collect(names, names.map((name) => runOne(registry, (n) => registry.acquireShadow(n), name, window, unitOf, detectors, history)));
}

async function collect(names: readonly string[], pending: readonly Promise<Outcome>[]): Promise<ModelRuns> {
  const outcomes = await Promise.all(pending);
  const runs: ModelRuns = { scores: [], predictions: [], skipped: [], failures: [], succeeded: [] };
  outcomes.forEach((o, i) => {
    if (o.kind === 'score') runs.scores.push(o.value);
    else if (o.kind === 'predictions') runs.predictions.push(...o.value);
    else if (o.kind === 'skipped') runs.skipped.push(o.value);
    else if (o.kind === 'failed') runs.failures.push(o.value);
    if (o.kind === 'score' || o.kind === 'predictions') runs.succeeded.push(names[i] ?? '');
  });
  return runs;
}

export function anomalyRow(score: StageScore, ts: number, sensorAnomalous: boolean): AnomalyRow {
  return {
    stage: score.stage,
    ts,
    score: score.score,
    threshold: score.threshold,
    isAnomaly: score.flag || sensorAnomalous,
    modelFlag: score.flag,
    contributors: JSON.stringify(score.contributors),
    model: score.model,
    verdict: score.verdict,
    missing: score.missing.length > 0 ? JSON.stringify(score.missing) : null,
  };
}
