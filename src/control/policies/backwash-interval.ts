import { featuresOf, param, type LoopPolicy } from './types.js';

export interface BackwashIntervalState {
  /** Filtration-phase TMP rise rate at the window's flux (kPa/h), low-pass filtered; absent until first measured. */
  readonly riseRate?: number;
  /** Windows since the last one the rise rate could be measured in. */
  readonly unmeasured: number;
}

/**
 * Backwash interval from the TMP rise rate while the membrane filters: fouling that builds faster than the
 * reference rate shortens the interval in proportion; a TMP above the high mark shortens it further. Slow
 * fouling lengthens it (less permeate lost to backwashing).
 *
 * The rise rate is read only from windows without a backwash (`membrane.backwash` never on, and the TMP
 * never below half its window mean, for a backwash between the state signal's samples): a backwash
 * inside the window drops the TMP, and the window's slope then tells where in the cycle the backwash
 * fell, not how fast the membrane fouls. Read from every window, the loop chased that artefact (pinned at
 * its shortest interval, or hunting between it and 25 min). The part of the slope that the flux explains
 * (TMP follows the flux at constant resistance) is taken out, and the rate is filtered over `filterHours`,
 * so the interval follows the membrane's fouling and the sludge, not each diurnal flux swing. Without a
 * measurement for `holdWindows` windows (intervals as short as the window leave none), the estimate returns
 * to the reference rate at the same pace, until the windows between backwashes measure again. A plant
 * without the backwash signal reads every window whose TMP held.
 */
export const backwashIntervalPolicy: LoopPolicy<BackwashIntervalState> = {
  loop: 'backwash_interval',
  requires: [{ stage: 'membrane', signal: 'tmp' }],
  propose({ plant, params, bounds, state, dtHours }) {
    const base = param(params, 'baseInterval', 15);
    const refSlope = param(params, 'refSlopePerHour', 12);
    const tmpHigh = param(params, 'tmpHigh', 40);
    const filterHours = param(params, 'filterHours', 4);
    const holdWindows = param(params, 'holdWindows', 6);
    const tmpFeatures = featuresOf(plant, { stage: 'membrane', signal: 'tmp' });
    const flux = featuresOf(plant, { stage: 'membrane', signal: 'flux' });
    const backwash = featuresOf(plant, { stage: 'membrane', signal: 'backwash' });
    const tmp = tmpFeatures?.mean ?? Number.NaN;
    // A TMP that fell below half its window mean saw a backwash (or a relaxation) the state signal missed.
    const tmpHeld = tmpFeatures !== undefined && tmpFeatures.min > 0.5 * tmpFeatures.mean;
    const filtering = tmpHeld && (backwash === undefined || backwash.max <= 0);
    // TMP = flux x resistance: at constant resistance the TMP moves with the flux; the rest is fouling.
    const fluxPart = flux && flux.mean > 0 ? (tmp / flux.mean) * flux.slope : 0;
    const measured = filtering ? (tmpFeatures?.slope ?? Number.NaN) - fluxPart : Number.NaN;
    const previousRate = state?.riseRate;
    const unmeasured = Number.isFinite(measured) ? 0 : (state?.unmeasured ?? 0) + 1;
    const alpha = filterHours > 0 ? Math.min(1, dtHours / filterHours) : 1;
    let riseRate = previousRate;
    if (Number.isFinite(measured)) {
      const rate = Math.max(measured, 0);
      riseRate = previousRate === undefined ? rate : previousRate + alpha * (rate - previousRate);
    } else if (previousRate !== undefined && unmeasured > holdWindows) {
      // No window between backwashes for a while: let the estimate return to the reference rate, at the
      // filter's pace, so the interval lengthens until the membrane can be measured again.
      riseRate = previousRate + alpha * (refSlope - previousRate);
    }
    let value = riseRate === undefined ? base : riseRate > 0 ? (base * refSlope) / riseRate : bounds.max;
    if (tmp > tmpHigh) value *= tmpHigh / tmp;
    // Backwash timers run in whole minutes; a finer setpoint would only flicker.
    value = Math.round(value);
    const reason = riseRate === undefined
      ? `TMP ${tmp.toFixed(1)} kPa; no rise rate measured between backwashes yet: base interval`
      : `TMP ${tmp.toFixed(1)} kPa rising ${riseRate.toFixed(2)} kPa/h while filtering${unmeasured > holdWindows ? ` (not measured for ${unmeasured} windows, returning to the reference rate)` : ''}`;
    return {
      value,
      reason,
      inputs: { tmp, tmpSlopePerHour: tmpFeatures?.slope ?? Number.NaN, riseRatePerHour: riseRate ?? Number.NaN, refSlopePerHour: refSlope, measuredWindow: Number.isFinite(measured) ? 1 : 0 },
      state: riseRate === undefined ? { unmeasured } : { riseRate, unmeasured },
    };
  },
};
