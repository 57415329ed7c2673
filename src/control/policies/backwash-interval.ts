import { featuresOf, param, type LoopPolicy } from './types.js';

/** No memory: the TMP slope of the window carries the history. */
export type BackwashIntervalState = Record<string, never>;

/**
 * Backwash interval from the TMP rise rate: fouling that builds faster than the reference rate shortens
 * the interval in proportion; a TMP above the high mark shortens it further. Slow fouling lengthens it
 * (less permeate lost to backwashing).
 */
export const backwashIntervalPolicy: LoopPolicy<BackwashIntervalState> = {
  loop: 'backwash_interval',
  requires: [{ stage: 'membrane', signal: 'tmp' }],
  propose({ plant, params, bounds }) {
    const base = param(params, 'baseInterval', 15);
    const refSlope = param(params, 'refSlopePerHour', 2);
    const tmpHigh = param(params, 'tmpHigh', 40);
    const f = featuresOf(plant, { stage: 'membrane', signal: 'tmp' });
    const tmp = f?.mean ?? Number.NaN;
    const slope = f?.slope ?? Number.NaN;
    const rising = Math.max(slope, 0);
    let value = rising > 0 ? (base * refSlope) / rising : bounds.max;
    if (tmp > tmpHigh) value *= tmpHigh / tmp;
    return { value, reason: `TMP ${tmp.toFixed(1)} kPa rising ${slope.toFixed(2)} kPa/h`, inputs: { tmp, tmpSlopePerHour: slope, refSlopePerHour: refSlope }, state: {} };
  },
};
