import type { SignalConfig } from '../config/schema.js';
import type { StageId } from '../contract/plant.js';
import type { FeatureName } from '../inference/features.js';

/** A plant feature as a manifest names it: `{stage, signal, feature}` (targets: `mean@+15m`). */
export interface FeatureRef {
  readonly stage: StageId;
  readonly signal: string;
  readonly feature: string;
}

const ref = (stage: StageId, signal: string, feature: FeatureName | `${FeatureName}@+${number}m`): FeatureRef => ({ stage, signal, feature });

/**
 * Inputs of a stage's anomaly autoencoder: every signal's window mean, plus the in-window range of
 * the fast signals (noise bursts and spikes show there before the mean moves).
 */
export function autoencoderInputs(stage: StageId, signals: readonly SignalConfig[]): FeatureRef[] {
  // Pump and valve states switch by design; their consequences show in the flows the model does watch.
  const own = signals.filter((s) => s.stage === stage && s.unit !== 'state' && !AUTOENCODER_EXCLUDED.has(`${s.stage}.${s.id}`));
  return [
    ...own.map((s) => ref(stage, s.id, 'mean')),
    ...own.filter((s) => s.periodSec <= 60 && !SETPOINT_DRIVEN.has(`${s.stage}.${s.id}`)).map((s) => ref(stage, s.id, 'range')),
  ];
}

/**
 * Effluent signals that move with the dosing and wasting setpoints and the upstream pump cycles in ways
 * the training runs do not cover (pH with the coagulant's alkalinity, flow with the sludge pumps,
 * turbidity with the backwash): left to the sensor checks, they made the effluent autoencoder's false alarms.
 */
export const AUTOENCODER_EXCLUDED: ReadonlySet<string> = new Set(['effluent.ph', 'effluent.flow', 'effluent.turbidity']);

/**
 * Flows that follow a supervisory setpoint one to one: their in-window range is the setpoint's step
 * (any size up to the loop's maxStep, twice that when two windows' setpoints land in one), set by design.
 */
export const SETPOINT_DRIVEN: ReadonlySet<string> = new Set([
  'anoxic.internal_recycle_flow', 'anoxic.carbon_dose_flow', 'secondary.was_flow', 'phosphorus.coagulant_flow',
]);

export interface PredictorSpec {
  readonly stage: StageId;
  readonly description: string;
  readonly inputs: readonly FeatureRef[];
  readonly targets: readonly FeatureRef[];
}

/** The horizon of every stage predictor: 15 min (the analyzers' period) ahead of the inputs. */
export const PREDICTOR_HORIZON_MIN = 15;
const ahead = `mean@+${PREDICTOR_HORIZON_MIN}m` as const;

/**
 * Each stage's outlet quality a short horizon ahead, from its inlet quality and operating parameters
 * (and the outlet's own current value: the stage's hold-up makes the outlet inertial). Targets are
 * chosen well above their analyzers' noise, so that a relative error means something.
 */
export const PREDICTOR_SPECS: readonly PredictorSpec[] = [
  {
    stage: 'primary',
    description: 'settled COD and TSS from influent quality and primary sludge withdrawal',
    inputs: [ref('influent', 'flow', 'mean'), ref('influent', 'cod', 'mean'), ref('influent', 'tss', 'mean'), ref('primary', 'sludge_flow', 'mean'), ref('primary', 'cod_out', 'mean'), ref('primary', 'tss_out', 'mean')],
    targets: [ref('primary', 'cod_out', ahead), ref('primary', 'tss_out', ahead)],
  },
  {
    stage: 'anoxic',
    description: 'anoxic ammonium from influent load and internal recycle',
    inputs: [ref('influent', 'flow', 'mean'), ref('influent', 'nh4_n', 'mean'), ref('anoxic', 'internal_recycle_flow', 'mean'), ref('anoxic', 'carbon_dose_flow', 'mean'), ref('anoxic', 'nh4_n', 'mean')],
    targets: [ref('anoxic', 'nh4_n', ahead)],
  },
  {
    stage: 'aerobic',
    description: 'aerobic nitrate from anoxic outlet, aeration and temperature',
    inputs: [ref('influent', 'flow', 'mean'), ref('anoxic', 'nh4_n', 'mean'), ref('anoxic', 'no3_n', 'mean'), ref('aerobic', 'do', 'mean'), ref('aerobic', 'airflow', 'mean'), ref('aerobic', 'temperature', 'mean'), ref('aerobic', 'no3_n', 'mean')],
    targets: [ref('aerobic', 'no3_n', ahead)],
  },
  {
    stage: 'effluent',
    description: 'effluent total N and nitrate from the biological stages and the effluent analyzers',
    // Total N is ammonium + nitrate + organic N: the minute-by-minute ammonium and nitrate probes carry most of
    // what the 15-min TN analyzer will read next, their trends the rest.
    inputs: [
      ref('influent', 'flow', 'mean'), ref('influent', 'cod', 'mean'), ref('aerobic', 'nh4_n', 'mean'), ref('aerobic', 'no3_n', 'mean'), ref('secondary', 'tss_out', 'mean'),
      ref('effluent', 'cod', 'mean'), ref('effluent', 'tn', 'mean'), ref('effluent', 'no3_n', 'mean'), ref('effluent', 'nh4_n', 'mean'), ref('effluent', 'nh4_n', 'slope'), ref('effluent', 'no3_n', 'slope'),
    ],
    // Effluent COD is mostly inert soluble COD: too little variance for R^2 to mean anything.
    targets: [ref('effluent', 'tn', ahead), ref('effluent', 'no3_n', ahead)],
  },
];
