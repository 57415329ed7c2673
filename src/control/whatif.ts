import type { LoopId, StageId } from '../contract/plant.js';
import type { PlantWindow } from '../contract/ports.js';
import type { PredictionRow } from '../contract/rows.js';
import type { WhatIfMessage } from '../contract/topics.js';
import type { LoopConfig } from '../config/sections/control.js';
import { clamp, meanOf, param } from './policies/types.js';

/**
 * What-if of a candidate setpoint: the loop's outlet over the next hours. The baseline at each horizon
 * is the stage predictor's forecast of the outlet (persistence of the window mean without one); the
 * candidate moves it towards a new steady state by the process relation the policy itself relies on,
 * with a first-order lag. It is an estimate for the operator's decision, shown with the model's name.
 */
interface OutletModel {
  readonly stage: StageId;
  readonly signal: string;
  readonly unit: string;
  readonly tauHours: number;
  readonly model: string;
  /** The outlet's steady state under the candidate, from its value under the current setpoint. */
  steady(outlet: number, current: number, candidate: number, plant: PlantWindow, params: Readonly<Record<string, number>>): number | undefined;
}

/** Oxygen half-saturation of the nitrifiers (ASM1 K_O,A), mg O2/L. */
const K_OA = 0.4;
const P_MOLAR_MASS = 30.97;

const monod = (dox: number): number => Math.max(dox, 0) / (K_OA + Math.max(dox, 0));

/** A steady state that scales with the influent flow: none without a positive mean flow in the window. */
const perInflow =
  (steady: (outlet: number, current: number, candidate: number, inflow: number, params: Readonly<Record<string, number>>) => number): OutletModel['steady'] =>
  (outlet, current, candidate, plant, params) => {
    const inflow = meanOf(plant, 'influent', 'flow');
    return inflow === undefined || inflow <= 0 ? undefined : steady(outlet, current, candidate, inflow, params);
  };

export const OUTLET_MODELS: Readonly<Record<LoopId, OutletModel>> = {
  do: {
    stage: 'aerobic',
    signal: 'nh4_n',
    unit: 'mg/L',
    tauHours: 1,
    model: 'whatif-nitrification-monod',
    // nitrification rate ~ DO / (K_OA + DO): the ammonium left scales inversely with it
    steady: (nh4, current, candidate) => (monod(candidate) > 0 ? (nh4 * monod(current)) / monod(candidate) : undefined),
  },
  internal_recycle: {
    stage: 'effluent',
    signal: 'no3_n',
    unit: 'mg/L',
    tauHours: 2,
    model: 'whatif-recycle-ratio',
    // nitrate leaving ~ nitrified N / (1 + R), R = (internal recycle + return sludge) / influent
    steady: perInflow((no3, current, candidate, inflow, params) => {
      const ras = param(params, 'rasRatio', 1);
      return (no3 * (1 + ras + current / inflow)) / (1 + ras + candidate / inflow);
    }),
  },
  carbon_dose: {
    stage: 'effluent',
    signal: 'no3_n',
    unit: 'mg/L',
    tauHours: 2,
    model: 'whatif-carbon-stoichiometry',
    // each m3/d of carbon source denitrifies sourceCod / codPerN g N per m3 of influent
    steady: perInflow((no3, current, candidate, inflow, params) => {
      const perDose = param(params, 'sourceCod', 400_000) / param(params, 'codPerN', 5) / inflow;
      return Math.max(0, no3 - (candidate - current) * perDose);
    }),
  },
  coagulant_dose: {
    stage: 'effluent',
    signal: 'po4_p',
    unit: 'mg/L',
    tauHours: 0.5,
    model: 'whatif-coagulant-stoichiometry',
    // metal dose precipitates phosphate at molarRatio mol Me per mol P, down to a residual
    steady: (po4, current, candidate, _plant, params) => {
      const perDose = P_MOLAR_MASS / (param(params, 'metalMolarMass', 55.85) * param(params, 'molarRatio', 1.5));
      const residual = Math.min(po4, param(params, 'po4Residual', 0.3));
      return Math.max(residual, po4 - (candidate - current) * perDose);
    },
  },
  backwash_interval: {
    stage: 'membrane',
    signal: 'tmp',
    unit: 'kPa',
    tauHours: 1,
    model: 'whatif-tmp-rise',
    // the mean TMP over a cycle rises by half the fouling rate times the interval
    steady: (tmp, current, candidate, plant) => {
      const slope = plant.stages.membrane?.signals['tmp']?.slope;
      const rise = slope !== undefined && Number.isFinite(slope) ? Math.max(slope, 0) : 0;
      return tmp + (rise * (candidate - current)) / 60 / 2;
    },
  },
  was_flow: {
    stage: 'aerobic',
    signal: 'mlss',
    unit: 'mg/L',
    tauHours: 72,
    model: 'whatif-sludge-age',
    // sludge age, and with it the mixed liquor, scales inversely with the wasting flow
    steady: (mlss, current, candidate) => (candidate > 0 ? (mlss * current) / candidate : undefined),
  },
};

export const WHATIF_HORIZONS_MIN = [60, 240] as const;

/** The predictor's forecast of a signal closest to a horizon, from the latest window's predictions. */
function forecast(predictions: readonly PredictionRow[], stage: StageId, signal: string, horizonMin: number): number | undefined {
  let best: PredictionRow | undefined;
  for (const p of predictions) {
    if (p.stage !== stage || p.signal !== signal || !Number.isFinite(p.value)) continue;
    if (!best || Math.abs(p.horizonMin - horizonMin) < Math.abs(best.horizonMin - horizonMin)) best = p;
  }
  return best?.value;
}

export interface WhatIfInput {
  readonly loop: LoopConfig;
  readonly plant: PlantWindow;
  readonly predictions: readonly PredictionRow[];
  /** The setpoint in effect (or the measured feedback), the base of the comparison. */
  readonly current: number;
  readonly candidate: number;
}

/** The outlet under a candidate setpoint (clamped to the loop's envelope); undefined without data. */
export function whatIf(input: WhatIfInput): WhatIfMessage | undefined {
  const { loop, plant } = input;
  const model = OUTLET_MODELS[loop.id];
  const now = meanOf(plant, model.stage, model.signal);
  const candidate = clamp(input.candidate, loop.min, loop.max);
  const horizons: { horizonMin: number; baseline: number; predicted: number }[] = [];
  for (const horizonMin of WHATIF_HORIZONS_MIN) {
    const baseline = forecast(input.predictions, model.stage, model.signal, horizonMin) ?? now;
    if (baseline === undefined) continue;
    const steady = model.steady(baseline, input.current, candidate, plant, loop.params);
    if (steady === undefined || !Number.isFinite(steady)) continue;
    const reached = 1 - Math.exp(-horizonMin / 60 / model.tauHours);
    horizons.push({ horizonMin, baseline, predicted: baseline + (steady - baseline) * reached });
  }
  if (horizons.length === 0) return undefined;
  return {
    loop: loop.id,
    value: candidate,
    unit: loop.unit,
    outlet: { stage: model.stage, signal: model.signal, unit: model.unit },
    ...(now !== undefined ? { now } : {}),
    horizons,
    model: model.model,
    ts: plant.end,
  };
}
