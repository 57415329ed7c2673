/**
 * ASM1 (Henze et al. 1987) as parameterised in BSM1 ([REPORT] tables 2-3, asm1init.m).
 * State order per tank (13): SI SS XI XS XBH XBA XP SO SNO SNH SND XND SALK.
 */
export const COMPONENTS = ['SI', 'SS', 'XI', 'XS', 'XBH', 'XBA', 'XP', 'SO', 'SNO', 'SNH', 'SND', 'XND', 'SALK'] as const;
export type Component = (typeof COMPONENTS)[number];
export const N_COMP = 13;
export const SI = 0, SS = 1, XI = 2, XS = 3, XBH = 4, XBA = 5, XP = 6, SO = 7, SNO = 8, SNH = 9, SND = 10, XND = 11, SALK = 12;
/** Soluble components carried by the settler layers, in settler order. */
export const SOLUBLES = [SI, SS, SO, SNO, SNH, SND, SALK] as const;
/** Particulate components (those the settler partitions by the feed composition). */
export const PARTICULATES = [XI, XS, XBH, XBA, XP, XND] as const;

export interface Asm1Params {
  YA: number; YH: number; fP: number; iXB: number; iXP: number;
  muH: number; KS: number; KOH: number; KNO: number; bH: number; etag: number; etah: number;
  kh: number; KX: number; muA: number; KNH: number; bA: number; KOA: number; ka: number;
  SOsat: number; X2TSS: number;
}

export const BSM1_ASM1: Readonly<Asm1Params> = Object.freeze({
  YA: 0.24, YH: 0.67, fP: 0.08, iXB: 0.08, iXP: 0.06,
  muH: 4.0, KS: 10.0, KOH: 0.2, KNO: 0.5, bH: 0.3, etag: 0.8, etah: 0.8,
  kh: 3.0, KX: 0.1, muA: 0.5, KNH: 1.0, bA: 0.05, KOA: 0.4, ka: 0.05,
  SOsat: 8.0, X2TSS: 0.75,
});

/** Process rates of one tank, kept for the mass balance (O2 uptake, denitrified N, nitrified N). */
export interface ProcessTally { our: number; denit: number; nitr: number }

/**
 * Writes the 13 reaction rates (g/m3/d) of the tank whose state starts at x[o] into r[ro..ro+12].
 * Negative concentrations are read as zero, as the BSM1 reference code does. muHf/muAf scale the
 * growth rates (inhibition faults). Returns nothing and allocates nothing; tally receives the
 * electron-acceptor terms for the balance check.
 */
export function asm1Rates(
  p: Asm1Params, x: Float64Array, o: number, r: Float64Array, ro: number,
  muHf: number, muAf: number, tally: ProcessTally,
): void {
  const ss = Math.max(x[o + SS]!, 0), xs = Math.max(x[o + XS]!, 0), xbh = Math.max(x[o + XBH]!, 0);
  const xba = Math.max(x[o + XBA]!, 0), so = Math.max(x[o + SO]!, 0), sno = Math.max(x[o + SNO]!, 0);
  const snh = Math.max(x[o + SNH]!, 0), snd = Math.max(x[o + SND]!, 0), xnd = Math.max(x[o + XND]!, 0);
  const monoS = ss / (p.KS + ss);
  const monoO = so / (p.KOH + so);
  const inhO = p.KOH / (p.KOH + so);
  const monoNO = sno / (p.KNO + sno);
  const rho1 = p.muH * muHf * monoS * monoO * xbh;
  const rho2 = p.muH * muHf * monoS * inhO * monoNO * p.etag * xbh;
  const rho3 = p.muA * muAf * (snh / (p.KNH + snh)) * (so / (p.KOA + so)) * xba;
  const rho4 = p.bH * xbh;
  const rho5 = p.bA * xba;
  const rho6 = p.ka * snd * xbh;
  const ratio = xbh > 0 ? xs / xbh : 0;
  const rho7 = xbh > 0 ? p.kh * (ratio / (p.KX + ratio)) * (monoO + p.etah * inhO * monoNO) * xbh : 0;
  const rho8 = xs > 0 ? rho7 * xnd / xs : 0;
  const YH = p.YH, YA = p.YA, iXB = p.iXB, fP = p.fP;
  r[ro + SI] = 0;
  r[ro + SS] = -(rho1 + rho2) / YH + rho7;
  r[ro + XI] = 0;
  r[ro + XS] = (1 - fP) * (rho4 + rho5) - rho7;
  r[ro + XBH] = rho1 + rho2 - rho4;
  r[ro + XBA] = rho3 - rho5;
  r[ro + XP] = fP * (rho4 + rho5);
  const our = (1 - YH) / YH * rho1 + (4.57 - YA) / YA * rho3;
  const denit = (1 - YH) / (2.86 * YH) * rho2;
  r[ro + SO] = -our;
  r[ro + SNO] = -denit + rho3 / YA;
  r[ro + SNH] = -iXB * (rho1 + rho2) - (iXB + 1 / YA) * rho3 + rho6;
  r[ro + SND] = -rho6 + rho8;
  r[ro + XND] = (iXB - fP * p.iXP) * (rho4 + rho5) - rho8;
  r[ro + SALK] = -iXB / 14 * rho1 + ((1 - YH) / (14 * 2.86 * YH) - iXB / 14) * rho2 - (iXB / 14 + 1 / (7 * YA)) * rho3 + rho6 / 14;
  tally.our = our;
  tally.denit = denit;
  tally.nitr = rho3 / YA;
}

/** Total COD (g COD/m3) of a 13-component vector at offset o. */
export function codOf(x: ArrayLike<number>, o = 0): number {
  return x[o + SI]! + x[o + SS]! + x[o + XI]! + x[o + XS]! + x[o + XBH]! + x[o + XBA]! + x[o + XP]!;
}

/** Total nitrogen (g N/m3): SNO + Kjeldahl N. */
export function nitrogenOf(p: Asm1Params, x: ArrayLike<number>, o = 0): number {
  return x[o + SNO]! + tknOf(p, x, o);
}

export function tknOf(p: Asm1Params, x: ArrayLike<number>, o = 0): number {
  return x[o + SNH]! + x[o + SND]! + x[o + XND]! + p.iXB * (x[o + XBH]! + x[o + XBA]!) + p.iXP * (x[o + XP]! + x[o + XI]!);
}

export function tssOf(p: Asm1Params, x: ArrayLike<number>, o = 0): number {
  return p.X2TSS * (x[o + XS]! + x[o + XI]! + x[o + XBH]! + x[o + XBA]! + x[o + XP]!);
}

export function bod5Of(p: Asm1Params, x: ArrayLike<number>, o = 0, factor = 0.25): number {
  return factor * (x[o + SS]! + x[o + XS]! + (1 - p.fP) * (x[o + XBH]! + x[o + XBA]!));
}
