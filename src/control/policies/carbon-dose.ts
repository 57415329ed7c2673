import { integrate, meanOf, param, type LoopPolicy } from './types.js';

export interface CarbonDoseState {
  readonly integral: number;
}

/**
 * External carbon from nitrate and C/N: dose only when nitrate is left over that the influent carbon
 * cannot denitrify (C/N under the sufficient ratio), sized from the nitrate surplus, the flow through the
 * anoxic zone and the COD needed per g N, with an integral trim on the remaining surplus.
 */
export const carbonDosePolicy: LoopPolicy<CarbonDoseState> = {
  loop: 'carbon_dose',
  requires: [{ stage: 'anoxic', signal: 'no3_n' }],
  propose({ plant, params, state, dtHours, bounds }) {
    const anoxicTarget = param(params, 'no3Target', 3);
    const effluentTarget = param(params, 'effluentNo3Target', 15);
    const codPerN = param(params, 'codPerN', 5);
    const sourceCod = param(params, 'sourceCod', 400000);
    const cnSufficient = param(params, 'cnSufficient', 10);
    const ki = param(params, 'kiPerHour', 0.05);
    const anoxicNo3 = meanOf(plant, 'anoxic', 'no3_n') ?? Number.NaN;
    const effluentNo3 = meanOf(plant, 'effluent', 'no3_n');
    const cod = meanOf(plant, 'influent', 'cod');
    const tn = meanOf(plant, 'influent', 'tn');
    const flow = meanOf(plant, 'influent', 'flow') ?? param(params, 'flowNominal', 18446);
    const recycle = meanOf(plant, 'anoxic', 'internal_recycle_flow') ?? param(params, 'recycleNominal', 55338);
    const cn = cod !== undefined && tn !== undefined && tn > 0 ? cod / tn : undefined;
    const surplus = Math.max(anoxicNo3 - anoxicTarget, effluentNo3 !== undefined ? effluentNo3 - effluentTarget : 0, 0);
    const carbonShort = cn === undefined || cn < cnSufficient ? 1 : 0;
    // Without surplus the trim winds down, so dosing stops once the nitrate is gone.
    const integral = integrate(state?.integral, carbonShort * surplus - (surplus === 0 ? 0.5 : 0), ki, dtHours, 0, bounds.max);
    const demand = carbonShort * surplus * (flow + recycle) * codPerN / sourceCod;
    const inputs: Record<string, number> = { anoxicNo3, surplusNo3: surplus, flow, recycle, integral };
    if (effluentNo3 !== undefined) inputs['effluentNo3'] = effluentNo3;
    if (cn !== undefined) inputs['cn'] = cn;
    const value = demand + integral;
    const why = carbonShort ? `nitrate surplus ${surplus.toFixed(2)} mg/L, C/N ${cn?.toFixed(1) ?? 'unknown'}` : `C/N ${cn?.toFixed(1) ?? ''} sufficient`;
    return { value, reason: why, inputs, state: { integral } };
  },
};
