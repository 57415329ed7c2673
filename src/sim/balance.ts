import { BSM1_ASM1, codOf, nitrogenOf, tssOf, N_COMP, XBA, XBH, XI, XND, XP, SNO, SNH, SND, type Asm1Params } from './asm1.js';
import {
  N_LAYERS, N_SETTLER_SOL, PO4_SETTLER, PO4_TANKS, PQUAD, PRIMARY, PRIMARY_PO4, P_COD_PS, P_COD_RAW, P_N_PS, P_N_RAW, P_P_E, P_P_PS, P_P_RAW, P_P_W,
  P_TSS_OV, P_TSS_PS, P_TSS_RAW, QUAD, Q_COD_E, Q_COD_EC, Q_COD_IN, Q_COD_W, Q_DENIT, Q_NITR, Q_N_E, Q_N_IN, Q_N_W, Q_OUR, SETTLER_SOL, SETTLER_TSS,
} from './layout.js';
import { particulateP } from './phosphorus.js';
import { BSM1 } from './plant.js';
import { PRIMARY_CLARIFIER } from './primary.js';

/** COD (g) and N (g) held in reactors and settler. Settler particulate N is taken at the feed's N/TSS ratio. */
export function inventoryOf(p: Asm1Params, x: Float64Array): { cod: number; n: number } {
  let cod = 0, n = 0;
  for (let k = 0; k < 5; k++) {
    const o = k * N_COMP;
    cod += codOf(x, o) * BSM1.volumes[k]!;
    n += (x[o + SNO]! + x[o + SNH]! + x[o + SND]! + x[o + XND]! + p.iXB * (x[o + XBH]! + x[o + XBA]!) + p.iXP * (x[o + XP]! + x[o + XI]!)) * BSM1.volumes[k]!;
  }
  const t5 = 4 * N_COMP;
  const tss5 = p.X2TSS * (x[t5 + 2]! + x[t5 + 3]! + x[t5 + XBH]! + x[t5 + XBA]! + x[t5 + XP]!);
  const nPerTss = (x[t5 + XND]! + p.iXB * (x[t5 + XBH]! + x[t5 + XBA]!) + p.iXP * (x[t5 + XP]! + x[t5 + XI]!)) / tss5;
  const layerVol = BSM1.area * BSM1.layerHeight;
  for (let j = 0; j < N_LAYERS; j++) {
    const X = x[SETTLER_TSS + j]!, so = SETTLER_SOL + j * N_SETTLER_SOL;
    // settler solubles order: SI SS SO SNO SNH SND SALK
    cod += (x[so]! + x[so + 1]! + X / p.X2TSS) * layerVol;
    n += (x[so + 3]! + x[so + 4]! + x[so + 5]! + X * nPerTss) * layerVol;
  }
  return { cod, n };
}

export interface BalanceReport { inflow: number; outflow: number; accumulation: number; conversion: number; residual: number; relative: number }

/** Closes in = out + accumulation + conversion between two states of one run (quadratures in g). */
export function massBalance(p: Asm1Params, start: Float64Array, end: Float64Array): { cod: BalanceReport; n: BalanceReport } {
  const q = (x: Float64Array, i: number): number => x[QUAD + i]!;
  const d = (i: number): number => q(end, i) - q(start, i);
  const a = inventoryOf(p, start), b = inventoryOf(p, end);
  const report = (inflow: number, outflow: number, accumulation: number, conversion: number): BalanceReport => {
    const residual = inflow - outflow - accumulation - conversion;
    return { inflow, outflow, accumulation, conversion, residual, relative: residual / inflow };
  };
  return {
    cod: report(d(Q_COD_IN) + d(Q_COD_EC), d(Q_COD_E) + d(Q_COD_W), b.cod - a.cod, d(Q_OUR) + 2.86 * d(Q_DENIT) - 4.57 * d(Q_NITR)),
    n: report(d(Q_N_IN), d(Q_N_E) + d(Q_N_W), b.n - a.n, d(Q_DENIT)),
  };
}

/**
 * Primary clarifier balance of COD, N and TSS (full plant): raw influent = overflow to the
 * activated sludge + primary sludge + change of the tank content.
 */
export function primaryBalance(p: Asm1Params, start: Float64Array, end: Float64Array): { cod: BalanceReport; n: BalanceReport; tss: BalanceReport } {
  const d = (base: number, i: number): number => end[base + i]! - start[base + i]!;
  const v = PRIMARY_CLARIFIER.volume;
  const report = (inflow: number, outflow: number, accumulation: number): BalanceReport => {
    const residual = inflow - outflow - accumulation;
    return { inflow, outflow, accumulation, conversion: 0, residual, relative: residual / inflow };
  };
  return {
    cod: report(d(PQUAD, P_COD_RAW), d(QUAD, Q_COD_IN) + d(PQUAD, P_COD_PS), v * (codOf(end, PRIMARY) - codOf(start, PRIMARY))),
    n: report(d(PQUAD, P_N_RAW), d(QUAD, Q_N_IN) + d(PQUAD, P_N_PS), v * (nitrogenOf(p, end, PRIMARY) - nitrogenOf(p, start, PRIMARY))),
    tss: report(d(PQUAD, P_TSS_RAW), d(PQUAD, P_TSS_OV) + d(PQUAD, P_TSS_PS), v * (tssOf(p, end, PRIMARY) - tssOf(p, start, PRIMARY))),
  };
}

/** Phosphorus (g P) held in the primary tank, reactors and settler of the full plant. */
export function phosphorusInventory(x: Float64Array): number {
  let m = (Math.max(0, x[PRIMARY_PO4]!) + particulateP(x, PRIMARY)) * PRIMARY_CLARIFIER.volume;
  for (let k = 0; k < 5; k++) m += (x[PO4_TANKS + k]! + particulateP(x, k * N_COMP)) * BSM1.volumes[k]!;
  const t5 = 4 * N_COMP;
  const tss5 = tssOf(BSM1_ASM1, x, t5);
  const pPerTss = tss5 > 0 ? particulateP(x, t5) / tss5 : 0;
  const layerVol = BSM1.area * BSM1.layerHeight;
  for (let j = 0; j < N_LAYERS; j++) m += (x[PO4_SETTLER + j]! + x[SETTLER_TSS + j]! * pPerTss) * layerVol;
  return m;
}

/** Plant-wide P balance (full plant): raw TP = primary sludge + settler effluent + waste sludge + change held. */
export function phosphorusBalance(start: Float64Array, end: Float64Array): BalanceReport {
  const d = (i: number): number => end[PQUAD + i]! - start[PQUAD + i]!;
  const inflow = d(P_P_RAW), outflow = d(P_P_PS) + d(P_P_E) + d(P_P_W);
  const accumulation = phosphorusInventory(end) - phosphorusInventory(start);
  const residual = inflow - outflow - accumulation;
  return { inflow, outflow, accumulation, conversion: 0, residual, relative: residual / inflow };
}
