import { grid, integrate, meanOf, param, type LoopPolicy } from './types.js';

export interface InternalRecycleState {
  readonly integral: number;
}

/**
 * Nitrate-based internal recycle: hold the anoxic NO3-N near its target (about 1 mg/L). Below the target
 * the anoxic zone has spare denitrification capacity, so recycle more nitrate; above it, less (pumping
 * more only carries oxygen back). With a what-if model, the candidate with the lowest predicted outlet
 * nitrate plus a pumping-cost term wins.
 */
export const internalRecyclePolicy: LoopPolicy<InternalRecycleState> = {
  loop: 'internal_recycle',
  requires: [{ stage: 'anoxic', signal: 'no3_n' }],
  propose({ plant, params, state, dtHours, predict, bounds }) {
    const target = param(params, 'no3Target', 2);
    const base = param(params, 'base', 55338);
    const kp = param(params, 'kp', 10000);
    const ki = param(params, 'kiPerHour', 15000);
    const costPerFlow = param(params, 'costPerFlow', 1e-5);
    const no3 = meanOf(plant, 'anoxic', 'no3_n') ?? Number.NaN;
    const span = bounds.max - bounds.min;
    const integral = integrate(state?.integral, target - no3, ki, dtHours, -span, span);
    const inputs: Record<string, number> = { anoxicNo3: no3, no3Target: target, integral };
    if (predict) {
      let best: { value: number; score: number; predicted: number } | undefined;
      for (const c of grid(bounds.min, bounds.max, 11)) {
        const p = predict(c);
        if (p === undefined || !Number.isFinite(p)) continue;
        const score = p + costPerFlow * c;
        if (!best || score < best.score) best = { value: c, score, predicted: p };
      }
      if (best) {
        inputs['predictedNo3'] = best.predicted;
        return { value: best.value, reason: `least predicted nitrate plus pumping (${best.predicted.toFixed(2)} mg/L)`, inputs, state: { integral } };
      }
    }
    const aerobicNo3 = meanOf(plant, 'aerobic', 'no3_n');
    if (aerobicNo3 !== undefined) inputs['aerobicNo3'] = aerobicNo3;
    const value = base + kp * (target - no3) + integral;
    return { value, reason: `anoxic NO3-N ${no3.toFixed(2)} vs target ${target} mg/L`, inputs, state: { integral } };
  },
};
