import { bod5Of, codOf, nitrogenOf, tssOf, N_COMP, SNH, SNO, SO, SALK, type Asm1Params } from './asm1.js';
import { N_LAYERS, SETTLER_TSS, type PlantKind } from './layout.js';
import { influentPhosphate, influentTp } from './phosphorus.js';
import { BSM1, type PlantDrive, type PlantView } from './plant.js';
import type { StageOutputs } from './stages.js';

/** What every sensor reads from: the core state and the side models at one plant instant. */
export interface PlantTruth {
  t: number;
  x: Float64Array;
  view: PlantView;
  drive: PlantDrive;
  stages: StageOutputs;
  params: Asm1Params;
  influent: Float64Array;
  qIn: number;
  coagulantDose: number;
  plant: PlantKind;
  /** Plant effluent: the settler effluent for BSM1, after membrane and chemical P stage for the full plant. */
  effluent: Float64Array;
  effluentFlow: number;
  /** Water temperature, degC (faults.ts temperature_change). */
  temperature: number;
}

const tank = (c: PlantTruth, k: number, comp: number): number => c.x[k * N_COMP + comp]!;
const tankTss = (c: PlantTruth, k: number): number => tssOf(c.params, c.x, k * N_COMP);
/** Influent total P and phosphate from COD and particulate composition (phosphorus.ts). */
const tpIn = (c: PlantTruth): number => influentTp(c.influent);
const po4In = (c: PlantTruth): number => influentPhosphate(c.influent);
/**
 * BSM1 plant only (no phosphorus state): phosphate left after ~2 % of the net wasted solids took up
 * P. The full plant carries phosphate in its state instead.
 */
const po4Bio = (c: PlantTruth): number => Math.max(0.3, po4In(c) - (0.02 * c.drive.qw * tssOf(c.params, c.view.underflow)) / Math.max(c.view.qe, 1));
const ph = (alk: number): number => 6.6 + 0.12 * alk;
const orp = (doMg: number, no3: number): number => Math.max(-450, Math.min(250, -320 + 55 * Math.log1p(no3) + 120 * Math.log1p(doMg)));
const effTp = (c: PlantTruth): number => (c.plant === 'full' ? c.stages.effluentTp : c.stages.po4Out + 0.02 * tssOf(c.params, c.view.effluent));

/** Sludge blanket: height above the bottom where the settler TSS first drops below 3000 g/m3. */
function blanket(c: PlantTruth): number {
  let h = 0;
  for (let j = N_LAYERS - 1; j >= 0; j--) {
    const X = c.x[SETTLER_TSS + j]!;
    if (X < BSM1.Xt) {
      const below = j < N_LAYERS - 1 ? c.x[SETTLER_TSS + j + 1]! : X;
      return h + BSM1.layerHeight * Math.min(1, Math.max(0, (below - BSM1.Xt) / Math.max(below - X, 1e-9)));
    }
    h += BSM1.layerHeight;
  }
  return h;
}

/**
 * The twin counterpart of every signal of config/default.yaml, keyed `stage/signal`. A configured
 * signal without an entry here is an error at start (and a failing test).
 */
export const SIGNAL_SOURCES: Readonly<Record<string, (c: PlantTruth) => number>> = {
  'influent/flow': (c) => c.qIn,
  'influent/cod': (c) => codOf(c.influent),
  'influent/bod5': (c) => bod5Of(c.params, c.influent, 0, 0.65),
  'influent/tss': (c) => tssOf(c.params, c.influent),
  'influent/tn': (c) => nitrogenOf(c.params, c.influent),
  'influent/nh4_n': (c) => c.influent[SNH]!,
  'influent/tp': tpIn,
  'influent/po4_p': po4In,
  'influent/ph': (c) => ph(c.influent[SALK]!),
  'influent/temperature': (c) => c.temperature,
  'influent/alkalinity': (c) => c.influent[SALK]!,
  'primary/cod_out': (c) => c.stages.primCodOut,
  'primary/tss_out': (c) => c.stages.primTssOut,
  'primary/sludge_flow': (c) => c.stages.primSludgeFlow,
  'primary/sludge_blanket': (c) => c.stages.primBlanket,
  'primary/sludge_pump': (c) => c.stages.primPump,
  'anaerobic/orp': (c) => orp(0, tank(c, 0, SNO)) - 150,
  'anaerobic/po4_p': (c) => c.stages.anaerobicPo4,
  'anaerobic/ph': (c) => ph(tank(c, 0, SALK)) - 0.1,
  'anaerobic/nh4_n': (c) => tank(c, 0, SNH),
  'anoxic/no3_n': (c) => tank(c, 1, SNO),
  'anoxic/nh4_n': (c) => tank(c, 1, SNH),
  'anoxic/orp': (c) => orp(tank(c, 1, SO), tank(c, 1, SNO)),
  'anoxic/do': (c) => tank(c, 1, SO),
  'anoxic/internal_recycle_flow': (c) => c.view.qint,
  'anoxic/carbon_dose_flow': (c) => c.drive.qec,
  'aerobic/do': (c) => tank(c, 4, SO),
  'aerobic/do_zone3': (c) => tank(c, 2, SO),
  'aerobic/nh4_n': (c) => tank(c, 4, SNH),
  'aerobic/no3_n': (c) => tank(c, 4, SNO),
  'aerobic/mlss': (c) => tankTss(c, 4),
  // Air flow proportional to the oxygen transfer capacity sum(KLa·V), nominal 1 Nm3/h per m3/d.
  'aerobic/airflow': (c) => (c.drive.kla[2]! * BSM1.volumes[2]! + c.drive.kla[3]! * BSM1.volumes[3]! + c.view.kla5 * BSM1.volumes[4]!) / 24,
  'aerobic/kla': (c) => c.view.kla5,
  'aerobic/ph': (c) => ph(tank(c, 4, SALK)),
  'aerobic/temperature': (c) => c.temperature,
  'aerobic/alkalinity': (c) => tank(c, 4, SALK),
  'secondary/sludge_blanket': blanket,
  'secondary/tss_out': (c) => tssOf(c.params, c.view.effluent),
  'secondary/ras_flow': (c) => c.drive.qr,
  'secondary/was_flow': (c) => c.drive.qw,
  'secondary/ras_tss': (c) => tssOf(c.params, c.view.underflow),
  'secondary/turbidity': (c) => 0.6 * tssOf(c.params, c.view.effluent),
  'membrane/tmp': (c) => c.stages.tmpKpa,
  'membrane/permeate_flow': (c) => c.stages.permeateFlow,
  'membrane/flux': (c) => c.stages.flux,
  'membrane/permeability': (c) => c.stages.permeability,
  'membrane/turbidity': (c) => 0.05 + 0.6 * tssOf(c.params, c.stages.effluent),
  'membrane/backwash': (c) => c.stages.backwash,
  // Orthophosphate entering the stage, before dosing (config/default.yaml).
  'phosphorus/po4_p': (c) => c.stages.po4In,
  'phosphorus/coagulant_flow': (c) => c.stages.coagulantFlowLph,
  'phosphorus/ph': (c) => ph(c.view.effluent[SALK]!) - 0.0005 * c.coagulantDose * 10,
  'phosphorus/dosing_pump': (c) => c.stages.dosingPump,
  'effluent/flow': (c) => c.effluentFlow,
  'effluent/cod': (c) => codOf(c.effluent),
  'effluent/bod5': (c) => bod5Of(c.params, c.effluent),
  'effluent/tss': (c) => tssOf(c.params, c.effluent),
  'effluent/tn': (c) => nitrogenOf(c.params, c.effluent),
  'effluent/nh4_n': (c) => c.effluent[SNH]!,
  'effluent/no3_n': (c) => c.effluent[SNO]!,
  'effluent/tp': effTp,
  'effluent/po4_p': (c) => c.stages.po4Out,
  'effluent/ph': (c) => ph(c.effluent[SALK]!),
  'effluent/temperature': (c) => c.temperature,
  'effluent/turbidity': (c) => 0.6 * tssOf(c.params, c.effluent),
};

/** Inputs of the chemical P stage that the side models need from the core. */
export const stageFeeds = { tpIn, po4Bio };

/** Online analyzers (ion-selective, wet chemistry) answer later than probes. */
const ANALYZER = /(^|_)(nh4_n|no3_n|po4_p|tp|tn|cod|bod5)$/;
export function sensorDelayMin(signal: string): number {
  return ANALYZER.test(signal) ? 5 : 0;
}
/** Noise: 1 % of the reading plus 0.1 % of the measuring span (1 sigma). */
export function sensorSigma(value: number, min: number, max: number): number {
  return 0.01 * Math.abs(value) + 0.001 * (max - min);
}
