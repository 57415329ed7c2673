import type { PlantWindow } from '../contract/ports.js';
import type { PredictionRow } from '../contract/rows.js';
import { FEATURE_NAMES, featureValue, type FeatureName } from '../inference/features.js';
import { DriftRing, type DayCounts, type DriftFigures } from './drift.js';
import { SkillRing, type SkillBucket, type SkillFigures } from './skill.js';

/** What the tracker needs of a model version: its id and, for drift, its inputs with the scaler stats. */
export interface TrackedModel {
  /** `name@version`. */
  readonly id: string;
  readonly inputs: readonly { readonly stage: string; readonly signal: string; readonly feature: string }[];
  readonly center: readonly number[];
  readonly scale: readonly number[];
}

interface Pending {
  model: string;
  key: string;
  stage: string;
  signal: string;
  dueMs: number;
  predicted: number;
  persistence: number;
}

/** One prediction set against the value measured once its horizon passed (what the skill rings take). */
export interface JudgedPrediction {
  readonly model: string;
  /** `stage.signal@horizonMin`. */
  readonly key: string;
  readonly dueMs: number;
  readonly predicted: number;
  readonly measured: number;
  readonly persistence: number;
}

export interface TrackerState {
  skill: Record<string, Record<string, SkillBucket[]>>;
  drift: Record<string, Record<string, { center: number; scale: number; days: (DayCounts & { sum: number; first?: number; last?: number })[] }>>;
}

export interface ModelLiveFigures {
  /** Per `stage.signal@horizonMin`: 24 h and 7 d. */
  skill: Record<string, { '24h': SkillFigures; '7d': SkillFigures }>;
  /** Per input `stage.signal.feature`: today and 7 d. */
  drift: Record<string, { '1d': DriftFigures; '7d': DriftFigures }>;
}

/** Predictions waiting for their horizon; beyond this the oldest are dropped (bounded memory). */
const MAX_PENDING = 20_000;

/** The window feature a model reads, as inference computes it (src/inference/features.ts). */
const featureOf = (plant: PlantWindow, stage: string, signal: string, feature: string): number | undefined => {
  const f = plant.stages[stage as keyof PlantWindow['stages']]?.signals[signal];
  if (f === undefined || f.stale || !(FEATURE_NAMES as readonly string[]).includes(feature)) return undefined;
  const v = featureValue(f, feature as FeatureName);
  return Number.isFinite(v) ? v : undefined;
};

/**
 * Live skill and drift of the models, fed window by window: each prediction waits until a window ends at
 * or after its due time (made + horizon), then the window mean of its target is the measured value and the
 * target's mean in the window it was made in is persistence. Each model input's window value goes into
 * its drift ring. Plant (event) time only.
 */
export class LiveTracker {
  private readonly pending: Pending[] = [];
  private readonly skill = new Map<string, Map<string, SkillRing>>();
  private readonly drift = new Map<string, Map<string, DriftRing>>();

  constructor(state?: TrackerState) {
    for (const [model, rings] of Object.entries(state?.skill ?? {})) {
      this.skill.set(model, new Map(Object.entries(rings).map(([k, b]) => [k, SkillRing.fromJSON(b)])));
    }
    for (const [model, rings] of Object.entries(state?.drift ?? {})) {
      this.drift.set(model, new Map(Object.entries(rings).map(([k, r]) => [k, DriftRing.fromJSON(r.center, r.scale, r.days)])));
    }
  }

  /** Returns the predictions judged on this window (their horizon passed). */
  onWindow(plant: PlantWindow, models: readonly TrackedModel[], predictions: readonly PredictionRow[]): JudgedPrediction[] {
    for (const model of models) this.addDrift(plant, model);
    const due = this.pending.filter((p) => p.dueMs <= plant.end);
    if (due.length > 0) {
      const rest = this.pending.filter((p) => p.dueMs > plant.end);
      this.pending.length = 0;
      this.pending.push(...rest);
    }
    const judged: JudgedPrediction[] = [];
    for (const p of due) {
      const measured = featureOf(plant, p.stage, p.signal, 'mean');
      if (measured === undefined) continue;
      this.ring(p.model, p.key).add(p.dueMs, p.predicted, measured, p.persistence);
      judged.push({ model: p.model, key: p.key, dueMs: p.dueMs, predicted: p.predicted, measured, persistence: p.persistence });
    }
    for (const row of predictions) {
      // the value the row says persistence forecasts (null: its window lacked the target), else the window's mean
      const persistence = row.persistence === null ? undefined : (row.persistence ?? featureOf(plant, row.stage, row.signal, 'mean'));
      if (persistence === undefined) continue;
      this.pending.push({ model: row.model, key: `${row.stage}.${row.signal}@${row.horizonMin}`, stage: row.stage, signal: row.signal, dueMs: row.ts + row.horizonMin * 60_000, predicted: row.value, persistence });
    }
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
    return judged;
  }

  figures(model: string, nowMs: number): ModelLiveFigures {
    const skill: ModelLiveFigures['skill'] = {};
    for (const [key, ring] of this.skill.get(model) ?? []) skill[key] = { '24h': ring.figures(nowMs, 24), '7d': ring.figures(nowMs, 168) };
    const drift: ModelLiveFigures['drift'] = {};
    for (const [key, ring] of this.drift.get(model) ?? []) drift[key] = { '1d': ring.figures(nowMs, 1), '7d': ring.figures(nowMs, 7) };
    return { skill, drift };
  }

  /** Drops a model version's rings and waiting predictions (a version no longer active nor listed). */
  forget(model: string): void {
    this.skill.delete(model);
    this.drift.delete(model);
    const keep = this.pending.filter((p) => p.model !== model);
    this.pending.length = 0;
    this.pending.push(...keep);
  }

  /** Model versions with rings. */
  models(): string[] {
    return [...new Set([...this.skill.keys(), ...this.drift.keys()])];
  }

  /** JSON for the state store, so a restart keeps the rings (pending predictions are not kept). */
  toState(): TrackerState {
    const skill: TrackerState['skill'] = {};
    for (const [m, rings] of this.skill) skill[m] = Object.fromEntries([...rings].map(([k, r]) => [k, r.toJSON()]));
    const drift: TrackerState['drift'] = {};
    for (const [m, rings] of this.drift) drift[m] = Object.fromEntries([...rings].map(([k, r]) => [k, { center: r.center, scale: r.scale, days: r.toJSON() }]));
    return { skill, drift };
  }

  private ring(model: string, key: string): SkillRing {
    let rings = this.skill.get(model);
    if (rings === undefined) this.skill.set(model, (rings = new Map()));
    let ring = rings.get(key);
    if (ring === undefined) rings.set(key, (ring = new SkillRing()));
    return ring;
  }

  private addDrift(plant: PlantWindow, model: TrackedModel): void {
    let rings = this.drift.get(model.id);
    if (rings === undefined) {
      rings = new Map();
      this.drift.set(model.id, rings);
    }
    model.inputs.forEach((input, j) => {
      const key = `${input.stage}.${input.signal}.${input.feature}`;
      const value = featureOf(plant, input.stage, input.signal, input.feature);
      if (value === undefined) return;
      let ring = rings.get(key);
      if (ring === undefined) {
        ring = new DriftRing(model.center[j] ?? 0, model.scale[j] ?? 1);
        rings.set(key, ring);
      }
      ring.add(plant.end, value);
    });
  }
}
