import { N_COMP, XBA, XBH, XI, XND, XP, XS } from './asm1.js';
import { chemicalSludge, ferricResidualP, particulateP, PHOSPHORUS } from './phosphorus.js';
import { particulateRemoval, PRIMARY_CLARIFIER } from './primary.js';

/**
 * The stages downstream of the secondary clarifier (membrane filtration, chemical phosphorus
 * removal) stepped once per plant minute, and the primary clarifier and anaerobic zone as side
 * models for the BSM1 plant (in the full plant those two come from the coupled state). Equations
 * and sources: docs/twin.md.
 */
export interface StageState {
  /** Side-model primary clarifier outlet (lagged) TSS and COD, g/m3 (BSM1 plant only). */
  primTss: number; primCod: number;
  /** Membrane fouling resistance in 1/permeability units (bar·m2·h/L): reversible, irreversible. */
  foulRev: number; foulIrr: number;
  /** Minutes since the last backwash, minutes of backwash left, TMP of the backwash (kPa). */
  sinceBackwash: number; backwashing: number; backwashKpa: number;
  /** Chemical cleanings done (irreversible fouling removed). */
  cleanings: number;
}

export interface StageInputs {
  full: boolean;
  tMin: number; qIn: number; codIn: number; tssIn: number; partCodIn: number; tpIn: number; ssIn: number;
  /** Secondary clarifier effluent: flow (m3/d), 13 components, phosphate. */
  qe: number; secondary: Float64Array; po4Secondary: number;
  /** Full plant: primary clarifier and anaerobic (tank 1) values from the coupled state. */
  primary?: { codOut: number; tssOut: number; sludgeFlow: number; removal: number; po4Tank1: number; ssTank1In: number };
  coagulantDose: number; dosingAvailable: boolean;
  backwashIntervalMin: number; foulingFactor: number;
}

export interface StageOutputs {
  primCodOut: number; primTssOut: number; primSludgeFlow: number; primBlanket: number; primPump: number;
  anaerobicPo4: number;
  tmpKpa: number; permeateFlow: number; flux: number; permeability: number; backwash: number;
  /** Phosphate entering the chemical P stage and left after precipitation, g P/m3. */
  po4In: number; po4Out: number; coagulantFlowLph: number; dosingPump: number;
  /** Plant effluent after membrane and chemical P stage: 13 components, flow (m3/d), PO4-P and TP (g P/m3). */
  effluent: Float64Array; effluentFlow: number; effluentPo4: number; effluentTp: number;
  /** Rates at this minute: backwash water lost (m3/d), membrane pumping (kWh/d), solids leaving (g/d). */
  backwashLoss: number; membraneKwhPerDay: number; membraneSolids: number; chemicalSludge: number;
}

export const STAGE_CONST = Object.freeze({
  membraneArea: 30000, lp0: 250, backwashMin: 1,
  /** Cake resistance per filtered volume and feed solids, (bar·m2·h/L) per (L/m2 · g TSS/m3). */
  foulPerLoad: 1.6e-5, minFoulingTss: 2,
  /** Share of the cake left on the membrane by a backwash, growing with the cake (compaction). */
  irreversibleShare: 0.002,
  /** Backwash: 1.5 x the filtration flow for 30 s, at 1.5 x the TMP reached. */
  backwashVolumeFactor: 0.75, backwashPressureFactor: 1.5, pumpEfficiency: 0.7,
  /** Chemical cleaning when TMP exceeds this (kPa). */
  cleaningKpa: 50,
  /** Particulate rejection of the ultrafiltration membrane. */
  rejection: 0.995,
  anaerobicRelease: 0.15,
});

const PARTICULATE = Array.from({ length: N_COMP }, (_, c) => c === XI || c === XS || c === XBH || c === XBA || c === XP || c === XND);

export function initialStages(): StageState {
  // Mid-cycle start, so that backwashes do not coincide with the 15-min sampling and control ticks.
  return { primTss: 150, primCod: 280, foulRev: 0, foulIrr: 0, sinceBackwash: 7, backwashing: 0, backwashKpa: 0, cleanings: 0 };
}

/** Soluble P left after Fe dosing (Metcalf & Eddy 2014 Fig. 6-13, see phosphorus.ts). */
export function chemicalPhosphorus(po4In: number, doseMgFe: number): number {
  return ferricResidualP(po4In, doseMgFe);
}

function primarySide(s: StageState, u: StageInputs, dtMin: number, out: StageOutputs): void {
  const c = PRIMARY_CLARIFIER;
  const eta = particulateRemoval(u.qIn);
  const hrtMin = (c.volume / Math.max(u.qIn, 1)) * 1440;
  const a = 1 - Math.exp(-dtMin / hrtMin);
  s.primTss += a * (u.tssIn * (1 - eta) - s.primTss);
  s.primCod += a * (u.codIn - eta * u.partCodIn - s.primCod);
  out.primTssOut = s.primTss; out.primCodOut = s.primCod;
  out.primSludgeFlow = c.fPS * u.qIn;
  out.primBlanket = 0.5 + 2 * eta;
  out.anaerobicPo4 = u.tpIn * 0.6 + STAGE_CONST.anaerobicRelease * u.ssIn;
}

/** Membrane: resistance in series, cake growing with the filtered volume, removed by backwash. */
function membrane(s: StageState, u: StageInputs, dtMin: number, out: StageOutputs): void {
  const c = STAGE_CONST;
  const interval = Math.max(u.backwashIntervalMin, c.backwashMin + 1);
  // The feed is buffered during backwash, so filtration runs faster while it runs.
  const gross = (u.qe * interval) / (interval - c.backwashMin);
  const flux = (gross * 1000) / 24 / c.membraneArea;
  const tssFeed = 0.75 * (u.secondary[XI]! + u.secondary[XS]! + u.secondary[XBH]! + u.secondary[XBA]! + u.secondary[XP]!);
  const resistance = (): number => 1 / c.lp0 + s.foulRev + s.foulIrr;
  const bwVolume = (c.backwashVolumeFactor * gross * c.backwashMin) / 1440;
  s.sinceBackwash += dtMin;
  let energy = 0;
  if (s.backwashing > 0) {
    s.backwashing = Math.max(0, s.backwashing - dtMin);
  } else if (s.sinceBackwash >= interval) {
    s.backwashKpa = c.backwashPressureFactor * flux * resistance() * 100;
    s.foulIrr += c.irreversibleShare * s.foulRev * (1 + s.foulRev * c.lp0);
    s.foulRev = 0;
    s.sinceBackwash = 0;
    s.backwashing = c.backwashMin;
    // kPa·m3 = kJ; spread over the backwash minute as a daily rate.
    energy = ((bwVolume * s.backwashKpa) / 3600 / c.pumpEfficiency) * (1440 / dtMin);
  } else {
    s.foulRev += c.foulPerLoad * Math.max(tssFeed, c.minFoulingTss) * u.foulingFactor * flux * (dtMin / 60);
  }
  let tmp = flux * resistance() * 100;
  if (tmp > c.cleaningKpa) { s.foulIrr = 0; s.cleanings++; tmp = flux * resistance() * 100; }
  const filtering = s.backwashing === 0;
  if (filtering) energy += (gross * tmp) / 3600 / c.pumpEfficiency;
  out.flux = filtering ? flux : 0;
  out.permeateFlow = filtering ? gross : 0;
  out.permeability = 1 / resistance();
  out.tmpKpa = filtering ? tmp : 0;
  out.backwash = filtering ? 0 : 1;
  out.backwashLoss = (bwVolume * 1440) / interval;
  out.membraneKwhPerDay = energy;
  out.membraneSolids = u.qe * tssFeed * c.rejection;
}

/** Advances the stages by dtMin minutes of plant time and writes their outputs. */
export function stepStages(s: StageState, u: StageInputs, dtMin: number, out: StageOutputs): void {
  if (u.primary) {
    out.primTssOut = u.primary.tssOut; out.primCodOut = u.primary.codOut;
    out.primSludgeFlow = u.primary.sludgeFlow; out.primBlanket = 0.5 + 2 * u.primary.removal;
    out.anaerobicPo4 = u.primary.po4Tank1 + STAGE_CONST.anaerobicRelease * u.primary.ssTank1In;
  } else {
    primarySide(s, u, dtMin, out);
  }
  // The primary sludge pump runs 10 min in every hour.
  out.primPump = u.tMin % 60 < 10 ? 1 : 0;
  membrane(s, u, dtMin, out);
  for (let c = 0; c < N_COMP; c++) out.effluent[c] = u.secondary[c]! * (PARTICULATE[c] ? 1 - STAGE_CONST.rejection : 1);
  const qOut = Math.max(0, u.qe - out.backwashLoss);
  const dose = u.dosingAvailable ? u.coagulantDose : 0;
  out.po4In = u.po4Secondary;
  out.po4Out = chemicalPhosphorus(u.po4Secondary, dose);
  out.chemicalSludge = chemicalSludge(u.po4Secondary, out.po4Out, dose) * qOut;
  out.coagulantFlowLph = (dose * qOut) / 24 / PHOSPHORUS.coagulantStrengthGL;
  out.dosingPump = dose > 0 ? 1 : 0;
  out.effluentFlow = qOut;
  out.effluentPo4 = out.po4Out;
  out.effluentTp = out.po4Out + particulateP(out.effluent);
}

export function emptyStageOutputs(): StageOutputs {
  return {
    primCodOut: 0, primTssOut: 0, primSludgeFlow: 0, primBlanket: 0, primPump: 0, anaerobicPo4: 0,
    tmpKpa: 0, permeateFlow: 0, flux: 0, permeability: 0, backwash: 0, po4In: 0, po4Out: 0, coagulantFlowLph: 0, dosingPump: 0,
    effluent: new Float64Array(N_COMP), effluentFlow: 0, effluentPo4: 0, effluentTp: 0,
    backwashLoss: 0, membraneKwhPerDay: 0, membraneSolids: 0, chemicalSludge: 0,
  };
}
