import type { PlantInput } from './features.js';
import type { LoadedModel } from './session.js';

/** `aerobic.no3_n@+60m`, the key of a target and horizon in manifests and metrics. */
export const targetKey = (t: Pick<PlantInput, 'stage' | 'signal' | 'horizonMin'>): string => `${t.stage}.${t.signal}@+${t.horizonMin}m`;

/** A predictor's target is published unless its manifest says it missed the bar (bundles without eligibility: all are). */
export function targetEligible(model: LoadedModel, target: PlantInput): boolean {
  return model.manifest.eligibility?.targets[targetKey(target)]?.eligible !== false;
}

/** Predictors whose every target missed the bar are not run: they would publish nothing. */
export function isEligible(model: LoadedModel): boolean {
  return model.kind !== 'predictor' || model.targets.some((t) => targetEligible(model, t));
}

export function inactiveTargets(model: LoadedModel): { target: string; reason: string }[] {
  if (model.kind !== 'predictor') return [];
  return model.targets.filter((t) => !targetEligible(model, t)).map((t) => ({ target: targetKey(t), reason: model.manifest.eligibility?.targets[targetKey(t)]?.reason ?? 'missed the bar' }));
}
