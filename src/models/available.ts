import type { SignalConfig } from '../config/schema.js';
import type { StageId } from '../contract/plant.js';
import { CLOCK_SIGNAL } from '../inference/features.js';
import { stagesWithSignals } from '../windows/index.js';
import { autoencoderInputs, type FeatureRef, type PredictorSpec } from './specs.js';

/** A model or an input a plant's history cannot feed, and why (one line of `train --from-store`). */
export interface LeftOut {
  readonly what: string;
  readonly why: string;
}

export interface PlantModels {
  readonly predictors: readonly PredictorSpec[];
  readonly autoencoderStages: readonly { readonly stage: StageId; readonly inputs: readonly FeatureRef[] }[];
  readonly leftOut: readonly LeftOut[];
}

const key = (r: { stage: string; signal: string }): string => `${r.stage}.${r.signal}`;

/**
 * The specs cut to what a plant has (`present`: `stage.signal` with readings). A predictor needs its
 * targets, and as inputs their current values (persistence is the bar it must beat); its other inputs
 * are left out one by one when absent. An autoencoder needs two inputs of its stage. Signals stored but
 * not configured are never windowed: left out too.
 */
export function modelsForPlant(specs: readonly PredictorSpec[], signals: readonly SignalConfig[], present: ReadonlySet<string>, stored: readonly { stage: string; signal: string }[] = []): PlantModels {
  const leftOut: LeftOut[] = [];
  const configured = new Set(signals.map((s) => `${s.stage}.${s.id}`));
  for (const s of stored) if (!configured.has(key(s))) leftOut.push({ what: `signal ${key(s)}`, why: 'stored but not in the config\'s signals (add it under signals: to learn from it)' });
  // The plant clock (calendar inputs) is always there.
  const usable = (r: FeatureRef): boolean => r.signal === CLOCK_SIGNAL || (present.has(key(r)) && configured.has(key(r)));
  const predictors: PredictorSpec[] = [];
  for (const spec of specs) {
    const name = `predict-${spec.stage}`;
    const missingTargets = spec.targets.filter((t) => !usable(t));
    const targets = spec.targets.filter(usable);
    if (targets.length === 0) {
      leftOut.push({ what: name, why: `no readings of its target${missingTargets.length > 1 ? 's' : ''} ${[...new Set(missingTargets.map(key))].join(', ')}` });
      continue;
    }
    const targetSignals = new Set(targets.map(key));
    const missingTargetSignals = new Set(missingTargets.map(key));
    const inputs = spec.inputs.filter(usable);
    for (const t of missingTargetSignals) leftOut.push({ what: `${name} target ${t}`, why: 'no readings in the store' });
    // One line per signal (its slope and recent history go with its mean).
    for (const i of spec.inputs) if (i.feature === 'mean' && !usable(i) && !missingTargetSignals.has(key(i))) leftOut.push({ what: `${name} input ${key(i)}.${i.feature}`, why: present.has(key(i)) ? 'not in the config\'s signals' : 'no readings in the store' });
    const own = [...targetSignals].filter((t) => !inputs.some((i) => key(i) === t && i.feature === 'mean'));
    if (own.length > 0) {
      leftOut.push({ what: name, why: `its inputs lack the current value of ${own.join(', ')} (the persistence it must beat)` });
      continue;
    }
    predictors.push({ ...spec, inputs, targets });
  }
  const autoencoderStages: { stage: StageId; inputs: FeatureRef[] }[] = [];
  for (const stage of stagesWithSignals(signals)) {
    const all = autoencoderInputs(stage, signals);
    const inputs = all.filter(usable);
    if (inputs.length < 2) {
      if (all.length > 0) leftOut.push({ what: `anomaly-${stage}`, why: inputs.length === 0 ? 'no readings of its signals in the store' : `only ${inputs.length} input with readings (${inputs.map((i) => `${key(i)}.${i.feature}`).join(', ')}); it needs two` });
      continue;
    }
    autoencoderStages.push({ stage, inputs });
  }
  return { predictors, autoencoderStages, leftOut };
}
