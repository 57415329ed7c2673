import type { ModelInput } from '../onnx/bundle.js';
import type { PlantWindow, SignalFeatures } from '../contract/ports.js';
import { isStage, type StageId } from '../contract/plant.js';

/** Window features a model may name; `range` (max - min) carries noise and spikes inside a window. */
export const FEATURE_NAMES = ['mean', 'last', 'min', 'max', 'slope', 'range', 'count', 'filled'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** The plant clock's position in its day or week, as a sine or cosine of the k-th harmonic (UTC). */
export interface CalendarFeature {
  readonly period: 'day' | 'week';
  readonly fn: 'sin' | 'cos';
  readonly harmonic: number;
}

export interface PlantInput {
  readonly stage: StageId;
  readonly signal: string;
  readonly feature: FeatureName;
  /** Targets only: how far ahead of the window end the value is meant (`mean@+30m`). */
  readonly horizonMin: number;
  /** Inputs only: the window that ended this long before the current one (`mean@-60m`, recent history). */
  readonly lagMin: number;
  /** Calendar inputs (`{signal: "clock", feature: "daysin1"}`): from the window's end time, not a signal. */
  readonly calendar?: CalendarFeature;
}

/** Signal name of calendar inputs: the clock is no meter. */
export const CLOCK_SIGNAL = 'clock';
const FEATURE_PATTERN = /^([a-z]+)(?:@([+-])(\d+)m)?$/;
const CALENDAR_PATTERN = /^(day|week)(sin|cos)([1-9])$/;
const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday: three days later the week phase is 0, on Sunday 00:00 UTC. */
const SUNDAY_OFFSET_MS = 3 * DAY_MS;

/** Parses `{stage, signal, feature}` inputs; plain CSV column names are not plant inputs. */
export function parsePlantInput(input: ModelInput): PlantInput | undefined {
  if (typeof input === 'string' || !isStage(input.stage)) return undefined;
  const calendar = input.signal === CLOCK_SIGNAL ? CALENDAR_PATTERN.exec(input.feature) : null;
  if (calendar) {
    const period = calendar[1] === 'day' ? 'day' : 'week';
    return { stage: input.stage, signal: CLOCK_SIGNAL, feature: 'mean', horizonMin: 0, lagMin: 0, calendar: { period, fn: calendar[2] === 'sin' ? 'sin' : 'cos', harmonic: Number(calendar[3]) } };
  }
  const match = FEATURE_PATTERN.exec(input.feature);
  const name = match?.[1];
  if (!match || !name || !(FEATURE_NAMES as readonly string[]).includes(name)) return undefined;
  const minutes = Number(match[3] ?? 0);
  return { stage: input.stage, signal: input.signal, feature: name as FeatureName, horizonMin: match[2] === '+' ? minutes : 0, lagMin: match[2] === '-' ? minutes : 0 };
}

/** Sine or cosine of the plant clock's phase in its day or week at `ts`. */
export function calendarValue(ts: number, c: CalendarFeature): number {
  const phase = c.period === 'day' ? (((ts % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS : ((((ts - SUNDAY_OFFSET_MS) % (7 * DAY_MS)) + 7 * DAY_MS) % (7 * DAY_MS)) / (7 * DAY_MS);
  const angle = 2 * Math.PI * c.harmonic * phase;
  return c.fn === 'sin' ? Math.sin(angle) : Math.cos(angle);
}

/** Earlier plant windows by their end time (recent history for `@-Nm` inputs). */
export type WindowHistory = (end: number) => PlantWindow | undefined;

/** How many slides further back a history input may look when its window is missing (sparse records). */
export const HISTORY_FALLBACK_SLIDES = 3;

/**
 * History over windows by end: the window that ended at the asked time, else the latest of the
 * HISTORY_FALLBACK_SLIDES slides before it (a historian export with gaps, analyzers every 15 min).
 */
export function windowHistory(byEnd: { get(end: number): PlantWindow | undefined }, slideMs: number): WindowHistory {
  return (end) => {
    for (let k = 0; k <= HISTORY_FALLBACK_SLIDES; k += 1) {
      const w = byEnd.get(end - k * slideMs);
      if (w) return w;
    }
    return undefined;
  };
}

export function featureValue(features: SignalFeatures, feature: FeatureName): number {
  switch (feature) {
    case 'range':
      return features.max - features.min;
    default:
      return features[feature];
  }
}

export const inputKey = (input: Pick<PlantInput, 'stage' | 'signal' | 'feature'> & { readonly lagMin?: number }): string =>
  `${input.stage}.${input.signal}.${input.feature}${input.lagMin ? `@-${input.lagMin}m` : ''}`;

export type MissingReason = 'absent' | 'stale' | 'not_finite';

export interface MissingInput {
  readonly input: string;
  readonly reason: MissingReason;
}

export type InputVector =
  | { readonly ok: true; readonly values: Float32Array }
  | { readonly ok: false; readonly missing: readonly MissingInput[] };

/** An input row as it is: NaN where an input is absent, stale or not finite, and which ones and why. */
export interface PartialInputs {
  readonly values: Float64Array;
  readonly missing: readonly MissingInput[];
}

/** Column j = inputs[j] from the window (calendar inputs from its end, `@-Nm` inputs from `history`). */
export function readInputs(window: PlantWindow, inputs: readonly PlantInput[], history?: WindowHistory): PartialInputs {
  const values = new Float64Array(inputs.length).fill(Number.NaN);
  const missing: MissingInput[] = [];
  inputs.forEach((input, j) => {
    if (input.calendar) {
      values[j] = calendarValue(window.end, input.calendar);
      return;
    }
    const source = input.lagMin > 0 ? history?.(window.end - input.lagMin * 60_000) : window;
    const features = source?.stages[input.stage]?.signals[input.signal];
    if (!features) {
      missing.push({ input: inputKey(input), reason: 'absent' });
      return;
    }
    if (features.stale) {
      missing.push({ input: inputKey(input), reason: 'stale' });
      return;
    }
    const value = featureValue(features, input.feature);
    if (!Number.isFinite(value) || !Number.isFinite(Math.fround(value))) {
      missing.push({ input: inputKey(input), reason: 'not_finite' });
      return;
    }
    values[j] = value;
  });
  return { values, missing };
}

/**
 * The model's input row, column j = inputs[j]. Any absent, stale or non-finite input refuses the whole
 * row: a session must never see NaN or a guessed value (predictors; detectors score from readInputs).
 */
export function buildInputVector(window: PlantWindow, inputs: readonly PlantInput[], history?: WindowHistory): InputVector {
  const { values, missing } = readInputs(window, inputs, history);
  return missing.length > 0 ? { ok: false, missing } : { ok: true, values: Float32Array.from(values) };
}

/** A signal feature of the window in full precision, or null when absent, stale or not finite. */
export function currentValue(window: PlantWindow | undefined, input: Pick<PlantInput, 'stage' | 'signal' | 'feature'>): number | null {
  const features = window?.stages[input.stage]?.signals[input.signal];
  if (!features || features.stale) return null;
  const value = featureValue(features, input.feature);
  return Number.isFinite(value) ? value : null;
}
