import type { LoopId, StageId } from '../../contract/plant.js';
import type { PlantWindow, SignalFeatures } from '../../contract/ports.js';
import type { IndicatorRow, PredictionRow } from '../../contract/rows.js';

/** A signal of the plant a policy reads. */
export interface SignalRef {
  readonly stage: StageId;
  readonly signal: string;
}

/** What a policy sees at one window close. Pure data plus an optional what-if model. */
export interface PolicyInput<S> {
  readonly plant: PlantWindow;
  readonly params: Readonly<Record<string, number>>;
  /** The loop's envelope, for what-if searches (the envelope still clamps the result). */
  readonly bounds: { readonly min: number; readonly max: number };
  readonly indicators: readonly IndicatorRow[];
  readonly predictions: readonly PredictionRow[];
  /** The policy's own memory (integral terms), as it returned it last time; undefined on first use. */
  readonly state: S | undefined;
  /** Last published setpoint of the loop, if any. */
  readonly previous: number | undefined;
  /** Event time since the previous policy run, hours (0 on the first run). */
  readonly dtHours: number;
  /**
   * What-if model for the loop's outlet: the predicted controlled variable (e.g. effluent NH4-N) if the
   * candidate setpoint were applied. Undefined result: no prediction for that candidate.
   */
  readonly predict?: ((candidate: number) => number | undefined) | undefined;
}

export interface PolicyResult<S> {
  readonly value: number;
  readonly reason: string;
  /** The inputs actually used, stored with the setpoint. */
  readonly inputs: Readonly<Record<string, number>>;
  readonly state: S;
  /** Model whose prediction shaped the value, if any. */
  readonly model?: string | undefined;
}

export interface LoopPolicy<S> {
  readonly loop: LoopId;
  /** Signals without which the policy cannot run: missing or stale -> fallback. */
  readonly requires: readonly SignalRef[];
  propose(input: PolicyInput<S>): PolicyResult<S>;
}

/** Features of one signal, undefined when missing or not finite. */
export function featuresOf(plant: PlantWindow, ref: SignalRef): SignalFeatures | undefined {
  const f = plant.stages[ref.stage]?.signals[ref.signal];
  if (!f || !Number.isFinite(f.mean) || !Number.isFinite(f.last)) return undefined;
  return f;
}

/** Window mean of a signal, or undefined. */
export function meanOf(plant: PlantWindow, stage: StageId, signal: string): number | undefined {
  return featuresOf(plant, { stage, signal })?.mean;
}

/** Latest prediction for a stage/signal (largest ts, then shortest horizon). */
export function predictionOf(predictions: readonly PredictionRow[], stage: StageId, signal: string): PredictionRow | undefined {
  let best: PredictionRow | undefined;
  for (const p of predictions) {
    if (p.stage !== stage || p.signal !== signal || !Number.isFinite(p.value)) continue;
    if (!best || p.ts > best.ts || (p.ts === best.ts && p.horizonMin < best.horizonMin)) best = p;
  }
  return best;
}

export function param(params: Readonly<Record<string, number>>, name: string, fallback: number): number {
  const v = params[name];
  return v !== undefined && Number.isFinite(v) ? v : fallback;
}

export const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** An integral term with anti-windup bounds, advanced by dt hours. */
export function integrate(integral: number | undefined, error: number, gainPerHour: number, dtHours: number, lo: number, hi: number): number {
  const i = Number.isFinite(integral) ? (integral as number) : 0;
  const next = i + error * gainPerHour * dtHours;
  return Number.isFinite(next) ? clamp(next, lo, hi) : clamp(i, lo, hi);
}

/**
 * Smallest candidate (in ascending order) whose predicted outlet stays at or under the target;
 * undefined when no candidate has a prediction.
 */
export function smallestMeeting(candidates: readonly number[], predict: (c: number) => number | undefined, target: number): { value: number; predicted: number } | undefined {
  let last: { value: number; predicted: number } | undefined;
  for (const c of candidates) {
    const p = predict(c);
    if (p === undefined || !Number.isFinite(p)) continue;
    last = { value: c, predicted: p };
    if (p <= target) return last;
  }
  return last;
}

export function grid(lo: number, hi: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(lo + ((hi - lo) * i) / (n - 1));
  return out;
}
