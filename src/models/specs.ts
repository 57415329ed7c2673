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
  /** One per target signal and horizon (`mean@+60m`), in the order of the prediction columns. */
  readonly targets: readonly FeatureRef[];
}

/** Horizons of every stage predictor: the analyzers' period, and the hours operators and the loops act on. */
export const PREDICTOR_HORIZONS_MIN = [15, 60, 240] as const;
/** The influent's load is wanted a day ahead too (the plant's next day). */
export const INFLUENT_HORIZONS_MIN = [15, 60, 240, 1440] as const;
/** The bar: MSE skill over persistence on the held-out block, at each of these horizons, for a target to be published. */
export const SKILL_BAR = 0.3;
export const SKILL_BAR_HORIZONS_MIN = [60, 240] as const;
/** Recent history of each input signal: the window means this long before the current window. */
export const HISTORY_LAGS_MIN = [15, 30, 60, 120, 240] as const;
/** Time of day (three harmonics) and day of week (two): the influent's daily and weekly pattern. */
const CALENDAR = ['daysin1', 'daycos1', 'daysin2', 'daycos2', 'daysin3', 'daycos3', 'weeksin1', 'weekcos1', 'weeksin2', 'weekcos2'] as const;

type Signal = readonly [StageId, string];

/**
 * A stage predictor: each target signal a horizon ahead from its own recent history and the drivers'
 * (current mean, in-window slope, the means 15 min to 4 h before), and the plant clock.
 */
function predictor(stage: StageId, description: string, targets: readonly string[], drivers: readonly Signal[], horizons: readonly number[] = PREDICTOR_HORIZONS_MIN): PredictorSpec {
  const signals: Signal[] = [...targets.map((t): Signal => [stage, t]), ...drivers.filter(([st, sg]) => st !== stage || !targets.includes(sg))];
  const inputs = signals.flatMap(([st, sg]) => [
    ref(st, sg, 'mean'), ref(st, sg, 'slope'), ...HISTORY_LAGS_MIN.map((lag) => ({ stage: st, signal: sg, feature: `mean@-${lag}m` })),
  ]);
  return {
    stage, description,
    inputs: [...inputs, ...CALENDAR.map((feature) => ({ stage, signal: 'clock', feature }))],
    targets: targets.flatMap((t) => horizons.map((h) => ref(stage, t, `mean@+${h}m`))),
  };
}

/** Each stage's outlet quality (the influent: its flow and load) 15 min, 1 h and 4 h ahead. */
export const PREDICTOR_SPECS: readonly PredictorSpec[] = [
  predictor('influent', 'influent flow, COD and ammonium (the load) from time of day, weekday and recent history', ['flow', 'cod', 'nh4_n'], [['influent', 'temperature']], INFLUENT_HORIZONS_MIN),
  predictor('primary', 'settled COD and TSS from influent quality and primary sludge withdrawal', ['cod_out', 'tss_out'], [['influent', 'flow'], ['influent', 'cod'], ['influent', 'tss'], ['primary', 'sludge_flow']]),
  predictor('anaerobic', 'anaerobic phosphate release and ammonium from the settled load', ['po4_p', 'nh4_n'], [['influent', 'flow'], ['influent', 'nh4_n'], ['primary', 'cod_out']]),
  predictor('anoxic', 'anoxic nitrate and ammonium from the load, internal recycle and carbon dose', ['no3_n', 'nh4_n'], [['influent', 'flow'], ['influent', 'nh4_n'], ['anoxic', 'internal_recycle_flow'], ['anoxic', 'carbon_dose_flow'], ['aerobic', 'no3_n']]),
  predictor('aerobic', 'aerobic ammonium and nitrate from the anoxic outlet, aeration and temperature', ['nh4_n', 'no3_n'], [['influent', 'flow'], ['anoxic', 'nh4_n'], ['anoxic', 'no3_n'], ['aerobic', 'do'], ['aerobic', 'airflow'], ['aerobic', 'temperature']]),
  predictor('secondary', 'clarifier outlet TSS and sludge blanket from the hydraulic load, MLSS and sludge flows', ['tss_out', 'sludge_blanket'], [['influent', 'flow'], ['aerobic', 'mlss'], ['secondary', 'ras_flow'], ['secondary', 'was_flow']]),
  predictor('membrane', 'permeate turbidity and transmembrane pressure from flux, MLSS and backwash', ['turbidity', 'tmp'], [['influent', 'flow'], ['membrane', 'flux'], ['aerobic', 'mlss']]),
  predictor('phosphorus', 'phosphate reaching chemical P removal from the influent load, the release upstream, the aeration and biomass that take it up, and the coagulant dose', ['po4_p'], [['influent', 'flow'], ['influent', 'po4_p'], ['anaerobic', 'po4_p'], ['aerobic', 'do'], ['aerobic', 'mlss'], ['phosphorus', 'coagulant_flow'], ['phosphorus', 'ph']]),
  predictor('effluent', 'effluent total N, ammonium, nitrate, phosphate, TSS and COD from the stages upstream', ['tn', 'nh4_n', 'no3_n', 'po4_p', 'tss', 'cod'], [['influent', 'flow'], ['aerobic', 'nh4_n'], ['aerobic', 'no3_n'], ['phosphorus', 'po4_p'], ['secondary', 'tss_out']]),
];
