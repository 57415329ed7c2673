import { meanOf, param, type LoopPolicy } from './types.js';

export interface WasFlowState {
  /** Low-pass filtered wasting demand, m3/d, so wasting does not chase the diurnal MLSS swing. */
  readonly filtered: number;
}

/**
 * Waste sludge flow from a sludge-age (SRT) target: the solids to remove per day are the sludge mass over
 * the target age, less what leaves with the effluent; divided by the return sludge concentration.
 */
export const wasFlowPolicy: LoopPolicy<WasFlowState> = {
  loop: 'was_flow',
  requires: [
    { stage: 'aerobic', signal: 'mlss' },
    { stage: 'secondary', signal: 'ras_tss' },
  ],
  propose({ plant, params, state, dtHours, previous }) {
    const srt = param(params, 'srtDays', 13);
    const volume = param(params, 'volume', 5999);
    const settlerMass = param(params, 'settlerMassKg', 0);
    const tau = param(params, 'filterHours', 12);
    const mlss = meanOf(plant, 'aerobic', 'mlss') ?? Number.NaN;
    const rasTss = meanOf(plant, 'secondary', 'ras_tss') ?? Number.NaN;
    const qe = meanOf(plant, 'effluent', 'flow') ?? 0;
    const tssE = meanOf(plant, 'effluent', 'tss') ?? meanOf(plant, 'secondary', 'tss_out') ?? 0;
    const massKg = (mlss * volume) / 1000 + settlerMass;
    const lostKgPerDay = (qe * tssE) / 1000;
    const raw = rasTss > 0 ? ((massKg / srt - lostKgPerDay) * 1000) / rasTss : Number.NaN;
    const start = Number.isFinite(state?.filtered) ? (state?.filtered as number) : (previous ?? raw);
    const alpha = tau > 0 ? Math.min(1, dtHours / tau) : 1;
    const filtered = Number.isFinite(raw) ? start + (raw - start) * alpha : start;
    return {
      value: filtered,
      reason: `SRT target ${srt} d with ${massKg.toFixed(0)} kg sludge`,
      inputs: { mlss, rasTss, effluentFlow: qe, effluentTss: tssE, massKg, srtDays: srt, rawWas: raw },
      state: { filtered: Number.isFinite(filtered) ? filtered : 0 },
    };
  },
};
