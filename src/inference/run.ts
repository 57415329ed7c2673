import type { PlantWindow } from '../contract/ports.js';
import type { AnomalyRow, PredictionRow } from '../contract/rows.js';
import type { StageId } from '../contract/plant.js';
import { buildInputVector, currentValue, type MissingInput } from './features.js';
import type { ModelRegistry } from './registry.js';
import { runSession, type LoadedModel } from './session.js';

export interface Contributor {
  readonly signal: string;
  readonly share: number;
}

export interface StageScore {
  readonly stage: StageId;
  readonly model: string;
  readonly score: number;
  readonly threshold: number;
  readonly contributors: readonly Contributor[];
  /** Some input's own reconstruction error is beyond its limit. */
  readonly inputExceeded: boolean;
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

/** Shares of the reconstruction error per signal (features of one signal summed), largest first. */
export function contributorsOf(model: LoadedModel, squaredError: Float32Array, limit = 5): Contributor[] {
  const bySignal = new Map<string, number>();
  let total = 0;
  model.inputs.forEach((input, j) => {
    const e = squaredError[j] ?? 0;
    total += e;
    bySignal.set(input.signal, (bySignal.get(input.signal) ?? 0) + e);
  });
  if (!(total > 0)) return [];
  return [...bySignal.entries()]
    .map(([signal, e]) => ({ signal, share: Number((e / total).toFixed(4)) }))
    .sort((a, b) => b.share - a.share)
    .slice(0, limit);
}

type Outcome =
  | { kind: 'score'; value: StageScore }
  | { kind: 'predictions'; value: PredictionRow[] }
  | { kind: 'skipped'; value: SkippedModel }
  | { kind: 'failed'; value: ModelFailure }
  | { kind: 'none' };

async function runOne(registry: ModelRegistry, name: string, window: PlantWindow, unitOf: (stage: StageId, signal: string) => string): Promise<Outcome> {
  const slot = registry.acquire(name);
  if (!slot) return { kind: 'none' };
  const model = slot.model;
  try {
    const vector = buildInputVector(window, model.inputs);
    if (!vector.ok) return { kind: 'skipped', value: { model: model.id, missing: vector.missing } };
    const out = await runSession(model.session, vector.values, model.inputs.length);
    if (model.kind === 'autoencoder') {
      const score = out['score']?.[0];
      const squared = out['squared_error'];
      if (score === undefined || !Number.isFinite(score) || !squared || !model.stage) throw new Error(`${model.id} returned no finite score`);
      return {
        kind: 'score',
        value: {
          stage: model.stage, model: model.id, score, threshold: model.manifest.threshold ?? Number.POSITIVE_INFINITY, contributors: contributorsOf(model, squared),
          inputExceeded: model.inputThresholds?.some((limit, j) => (squared[j] ?? 0) > limit) ?? false,
        },
      };
    }
    const prediction = out['prediction'];
    if (!prediction || prediction.length !== model.targets.length) throw new Error(`${model.id} returned ${prediction?.length ?? 0} predictions for ${model.targets.length} targets`);
    const rows: PredictionRow[] = [];
    model.targets.forEach((target, j) => {
      const value = prediction[j];
      // A non-finite prediction is a model failure, never a published value.
      if (value === undefined || !Number.isFinite(value)) throw new Error(`${model.id} predicted a non-finite ${target.stage}.${target.signal}`);
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
export async function runModels(registry: ModelRegistry, window: PlantWindow, unitOf: (stage: StageId, signal: string) => string): Promise<ModelRuns> {
  const names = registry.names();
  const outcomes = await Promise.all(names.map((name) => runOne(registry, name, window, unitOf)));
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

export function anomalyRow(score: StageScore, ts: number, sensorAnomalous: boolean, persistent: boolean): AnomalyRow {
  return {
    stage: score.stage,
    ts,
    score: score.score,
    threshold: score.threshold,
    isAnomaly: persistent || sensorAnomalous,
    contributors: JSON.stringify(score.contributors),
    model: score.model,
  };
}
