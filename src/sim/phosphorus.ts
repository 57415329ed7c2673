import { codOf, XBA, XBH, XI, XP, XS } from './asm1.js';

/**
 * Phosphorus of the full plant. ASM1 has no phosphorus, so it is carried alongside: phosphate
 * (PO4-P) as a soluble state, particulate P by the composition of the ASM1 particulates with the
 * ASM2d contents (Henze et al. 2000, IWA STR 9: i_P,BM = 0.02, i_P,XS = 0.01, i_P,XI = 0.01 g P/g COD;
 * SS and SI carry none here). Influent TP is a fixed share of the influent COD.
 */
export const PHOSPHORUS = Object.freeze({
  /** g P / g COD of raw municipal wastewater (medium strength: COD 750, TP 15 g/m3). */
  tpPerCod: 0.02,
  iPBM: 0.02, iPXS: 0.01, iPXI: 0.01,
  ironMolar: 55.845, phosphorusMolar: 30.974,
  /** Coagulant solution as delivered to the dosing pump, g Fe/L (a ferric chloride solution of about 32 %). */
  coagulantStrengthGL: 150,
  /** Molar masses of the precipitates (M&E 2014, chemical sludge): Fe1.6H2PO4(OH)3.8 and Fe(OH)3. */
  fePhosphateMolar: 251, feHydroxideMolar: 106.8, feToPInPrecipitate: 1.6,
});

/** Particulate P (g P/m3) of a 13-component vector at offset o. */
export function particulateP(x: ArrayLike<number>, o = 0): number {
  const p = PHOSPHORUS;
  return p.iPBM * (x[o + XBH]! + x[o + XBA]!) + p.iPXS * x[o + XS]! + p.iPXI * (x[o + XI]! + x[o + XP]!);
}

/** Influent total P (g P/m3) from its COD. */
export function influentTp(x: ArrayLike<number>, o = 0): number {
  return PHOSPHORUS.tpPerCod * codOf(x, o);
}

/** Influent phosphate: total P less the P bound in the particulates (never negative). */
export function influentPhosphate(x: ArrayLike<number>, o = 0): number {
  return Math.max(0, influentTp(x, o) - particulateP(x, o));
}

/**
 * Phosphate production rate (g P/m3/d) from the ASM1 reaction rates r (at offset ro): whatever
 * particulate P the reactions create is taken from phosphate, whatever they release returns to it,
 * so total P is conserved (growth takes up i_P,BM; decay and hydrolysis release).
 */
export function phosphateRate(r: ArrayLike<number>, ro = 0): number {
  return -particulateP(r, ro);
}

/**
 * Dose-response of ferric precipitation: residual soluble P (g P/m3) after dosing Fe (g Fe/m3) to
 * water with po4In g P/m3. Metcalf & Eddy (2014), Wastewater Engineering, 5th ed., Fig. 6-13 (adapted
 * from Szabo et al. 2008): residual soluble P against the Fe : initial-P molar ratio beta. Up to
 * beta = 1 removal is stoichiometric down to 1 g P/m3; beyond, log10(residual) is interpolated
 * linearly between points read from the figure (the book's example: 0.1 g P/m3 at beta = 3.3).
 */
const CURVE: readonly (readonly [number, number])[] = [
  [1.0, 1.0], [1.7, 0.5], [2.1, 0.3], [2.6, 0.2], [3.3, 0.1], [3.9, 0.05], [4.5, 0.03], [4.9, 0.02], [8.0, 0.01],
];
function equilibriumResidual(beta: number): number {
  if (beta <= CURVE[0]![0]) return CURVE[0]![1];
  for (let i = 1; i < CURVE.length; i++) {
    const [b1, c1] = CURVE[i]!;
    if (beta <= b1) {
      const [b0, c0] = CURVE[i - 1]!;
      const f = (beta - b0) / (b1 - b0);
      return 10 ** (Math.log10(c0) + f * (Math.log10(c1) - Math.log10(c0)));
    }
  }
  return CURVE[CURVE.length - 1]![1];
}

export function ferricResidualP(po4In: number, doseMgFe: number): number {
  if (po4In <= 0) return 0;
  const p = PHOSPHORUS;
  const beta = Math.max(0, doseMgFe) / p.ironMolar / (po4In / p.phosphorusMolar);
  const knee = CURVE[0]![1];
  if (po4In > knee && beta <= 1) return po4In - beta * (po4In - knee);
  return Math.min(po4In, equilibriumResidual(beta));
}

/** Chemical sludge (g/m3 of treated water): iron phosphate for the P removed, hydroxide for the excess Fe. */
export function chemicalSludge(po4In: number, po4Out: number, doseMgFe: number): number {
  const p = PHOSPHORUS;
  const pMol = Math.max(0, po4In - po4Out) / p.phosphorusMolar;
  const feMol = Math.max(0, doseMgFe) / p.ironMolar;
  return pMol * p.fePhosphateMolar + Math.max(0, feMol - p.feToPInPrecipitate * pMol) * p.feHydroxideMolar;
}
