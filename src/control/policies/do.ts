import { clamp, grid, integrate, meanOf, param, predictionOf, smallestMeeting, type LoopPolicy } from './types.js';

export interface DoState {
  readonly integral: number;
}

/**
 * Ammonium-based DO control: the aeration setpoint follows the aerobic NH4-N (PI on the ammonium error),
 * with feed-forward from the influent ammonium load, or from the predicted NH4-N when a predictor runs.
 * With a what-if model, the lowest DO whose predicted NH4-N meets the target wins (least blower energy).
 */
export const doPolicy: LoopPolicy<DoState> = {
  loop: 'do',
  requires: [{ stage: 'aerobic', signal: 'nh4_n' }],
  propose({ plant, params, predictions, state, dtHours, predict, bounds }) {
    const target = param(params, 'nh4Target', 2.5);
    const base = param(params, 'doBase', 1.5);
    const kp = param(params, 'kp', 0.4);
    const ki = param(params, 'kiPerHour', 0.1);
    const kff = param(params, 'kff', 0.5);
    const nominalLoad = param(params, 'nh4LoadNominal', 582);
    const nh4 = meanOf(plant, 'aerobic', 'nh4_n') ?? Number.NaN;
    const span = bounds.max - bounds.min;
    const integral = integrate(state?.integral, nh4 - target, ki, dtHours, -span, span);
    const inputs: Record<string, number> = { nh4_n: nh4, nh4Target: target, integral };

    if (predict) {
      const best = smallestMeeting(grid(bounds.min, bounds.max, 11), predict, target);
      if (best) {
        inputs['predictedNh4'] = best.predicted;
        return { value: best.value, reason: `lowest DO with predicted NH4-N ${best.predicted.toFixed(2)} <= ${target} mg/L`, inputs, state: { integral } };
      }
    }

    let feedForward = 0;
    let model: string | undefined;
    const predicted = predictionOf(predictions, 'aerobic', 'nh4_n') ?? predictionOf(predictions, 'effluent', 'nh4_n');
    if (predicted) {
      feedForward = kp * (predicted.value - nh4);
      inputs['predictedNh4'] = predicted.value;
      model = predicted.model;
    } else {
      const flow = meanOf(plant, 'influent', 'flow');
      const inNh4 = meanOf(plant, 'influent', 'nh4_n');
      if (flow !== undefined && inNh4 !== undefined && nominalLoad > 0) {
        const load = (flow * inNh4) / 1000;
        feedForward = kff * clamp(load / nominalLoad - 1, -1, 1);
        inputs['influentNh4Load'] = load;
      }
    }
    const value = base + kp * (nh4 - target) + integral + feedForward;
    return {
      value,
      reason: `NH4-N ${nh4.toFixed(2)} vs target ${target} mg/L${predicted ? ' (predicted feed-forward)' : ''}`,
      inputs,
      state: { integral },
      model,
    };
  },
};
