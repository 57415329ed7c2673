import { N_COMP, XBA, XBH, XI, XND, XP, XS } from './asm1.js';

/**
 * Primary clarifier of BSM2 (Otterpohl and Freund 1992; Otterpohl et al. 1994): one completely
 * mixed tank whose content is split into overflow and primary sludge by an empirical particulate
 * removal efficiency that depends on the hydraulic retention time. Parameters as in the BSM2
 * initialisation (primclarinit): V = 900 m3, f_corr = 0.65, f_X = 0.85, t_m = 0.125 d,
 * f_PS = 0.007. Pumping factor of the primary sludge: 0.075 kWh/m3 (BSM2 plant performance).
 */
export const PRIMARY_CLARIFIER = Object.freeze({
  volume: 900, fCorr: 0.65, fX: 0.85, tM: 0.125, fPS: 0.007, pumpKwhPerM3: 0.075,
});

/** Components that settle (f_sx,i = 1 in Otterpohl and Freund): the ASM1 particulates. */
const SETTLES: readonly boolean[] = Array.from({ length: N_COMP }, (_, c) => c === XI || c === XS || c === XBH || c === XBA || c === XP || c === XND);

/**
 * Removal efficiency of particulate COD (fraction) at the smoothed flow qm (m3/d):
 * eta_COD = f_corr (2.88 f_X - 0.118)(1.45 + 6.15 ln(HRT in min)) in %, eta_X = eta_COD / f_X.
 */
export function particulateRemoval(qm: number): number {
  const c = PRIMARY_CLARIFIER;
  const hrtMin = (c.volume / (qm + 0.001)) * 1440;
  const etaCod = c.fCorr * (2.88 * c.fX - 0.118) * (1.45 + 6.15 * Math.log(hrtMin));
  const etaX = etaCod / c.fX;
  return Math.min(1, Math.max(0, etaX / 100));
}

/**
 * Overflow and underflow concentrations from the tank content at offset o. The underflow is
 * thickened by E = Q_in / Q_u = 1 / f_PS, so that Q_of·C_of + Q_u·C_uf = Q_in·C_tank for every component.
 */
export function primarySplit(x: ArrayLike<number>, o: number, eta: number, overflow: Float64Array, underflow: Float64Array): void {
  const e = 1 / PRIMARY_CLARIFIER.fPS;
  for (let c = 0; c < N_COMP; c++) {
    const ff = SETTLES[c] ? 1 - eta : 1;
    const v = x[o + c]!;
    overflow[c] = Math.max(0, ff * v);
    underflow[c] = Math.max(0, ((1 - ff) * e + ff) * v);
  }
}
