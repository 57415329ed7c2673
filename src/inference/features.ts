import type { ModelInput } from '../onnx/bundle.js';
import type { PlantWindow, SignalFeatures } from '../contract/ports.js';
import { isStage, type StageId } from '../contract/plant.js';

/** Window features a model may name; `range` (max - min) carries noise and spikes inside a window. */
export const FEATURE_NAMES = ['mean', 'last', 'min', 'max', 'slope', 'range', 'count', 'filled'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export interface PlantInput {
  readonly stage: StageId;
  readonly signal: string;
  readonly feature: FeatureName;
  /** Targets only: how far ahead of the window end the value is meant (`mean@+30m`). */
  readonly horizonMin: number;
}

const FEATURE_PATTERN = /^([a-z]+)(?:@\+(\d+)m)?$/;

/** Parses `{stage, signal, feature}` inputs; plain CSV column names are not plant inputs. */
export function parsePlantInput(input: ModelInput): PlantInput | undefined {
  if (typeof input === 'string') return undefined;
  const match = FEATURE_PATTERN.exec(input.feature);
  const name = match?.[1];
  if (!match || !name || !(FEATURE_NAMES as readonly string[]).includes(name) || !isStage(input.stage)) return undefined;
  return { stage: input.stage, signal: input.signal, feature: name as FeatureName, horizonMin: Number(match[2] ?? 0) };
}

export function featureValue(features: SignalFeatures, feature: FeatureName): number {
  switch (feature) {
    case 'range':
      return features.max - features.min;
    default:
      return features[feature];
  }
}

export const inputKey = (input: Pick<PlantInput, 'stage' | 'signal' | 'feature'>): string => `${input.stage}.${input.signal}.${input.feature}`;

export type MissingReason = 'absent' | 'stale' | 'not_finite';

export interface MissingInput {
  readonly input: string;
  readonly reason: MissingReason;
}

export type InputVector =
  | { readonly ok: true; readonly values: Float32Array }
  | { readonly ok: false; readonly missing: readonly MissingInput[] };

/**
 * The model's input row, column j = inputs[j]. Any absent, stale or non-finite input refuses the whole
 * row: a session must never see NaN or a guessed value.
 */
export function buildInputVector(window: PlantWindow, inputs: readonly PlantInput[]): InputVector {
  const values = new Float32Array(inputs.length);
  const missing: MissingInput[] = [];
  inputs.forEach((input, j) => {
    const features = window.stages[input.stage]?.signals[input.signal];
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
  return missing.length > 0 ? { ok: false, missing } : { ok: true, values };
}

/** A signal feature of the window in full precision, or null when absent, stale or not finite. */
export function currentValue(window: PlantWindow, input: Pick<PlantInput, 'stage' | 'signal' | 'feature'>): number | null {
  const features = window.stages[input.stage]?.signals[input.signal];
  if (!features || features.stale) return null;
  const value = featureValue(features, input.feature);
  return Number.isFinite(value) ? value : null;
}
