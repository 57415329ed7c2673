import { integrate, meanOf, param, type LoopPolicy } from './types.js';

export interface CoagulantDoseState {
  readonly integral: number;
}

const P_MOLAR_MASS = 30.97;

/**
 * Coagulant from the phosphate load: the metal dose (mg/L as Me) precipitates the orthophosphate above
 * the residual allowed by the effluent TP target at a molar Me:P ratio; an integral trim on the effluent TP
 * corrects the ratio for what the plant actually achieves.
 */
export const coagulantDosePolicy: LoopPolicy<CoagulantDoseState> = {
  loop: 'coagulant_dose',
  requires: [{ stage: 'phosphorus', signal: 'po4_p' }],
  propose({ plant, params, state, dtHours, bounds }) {
    const tpTarget = param(params, 'tpTarget', 1);
    const residual = param(params, 'po4Residual', 0.3);
    const ratio = param(params, 'molarRatio', 1.5);
    const metalMolarMass = param(params, 'metalMolarMass', 55.85);
    const ki = param(params, 'kiPerHour', 0.5);
    const po4 = meanOf(plant, 'phosphorus', 'po4_p') ?? Number.NaN;
    const tp = meanOf(plant, 'effluent', 'tp');
    const integral = tp === undefined ? (state?.integral ?? 0) : integrate(state?.integral, tp - tpTarget, ki, dtHours, -bounds.max / 2, bounds.max / 2);
    const precipitate = Math.max(po4 - residual, 0);
    const value = (ratio * precipitate * metalMolarMass) / P_MOLAR_MASS + integral;
    const inputs: Record<string, number> = { po4_p: po4, tpTarget, molarRatio: ratio, integral };
    if (tp !== undefined) inputs['effluentTp'] = tp;
    return { value, reason: `PO4-P ${po4.toFixed(2)} mg/L at Me:P ${ratio} for TP ${tpTarget} mg/L`, inputs, state: { integral } };
  },
};
