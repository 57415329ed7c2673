import type { SignalFeatures, StageWindow } from '../contract/ports.js';
import type { StageId } from '../contract/plant.js';
import type { SensorChecksConfig } from '../config/sections/models.js';
import { medianOfSorted, RollingValues } from './rolling.js';

export type SensorCheckKind = 'stuck' | 'spike' | 'out_of_range' | 'dropout' | 'balance' | 'deviation' | 'shift';

/**
 * Checks that report a change of the process, not a doubtful measurement: a level shift of peak TMP per
 * flux is the membrane fouling, read from a TMP that is right. They raise their alarm and mark the stage
 * anomalous, but do not send the stage's loops to their fallback: the backwash loop must answer fouling
 * with shorter intervals, not return to its fixed fallback interval.
 */
export const PROCESS_CHECKS: ReadonlySet<SensorCheckKind> = new Set<SensorCheckKind>(['shift']);

export interface SensorFlag {
  readonly stage: StageId;
  readonly signal: string;
  readonly check: SensorCheckKind;
  readonly message: string;
}

export interface CheckedSignal {
  readonly stage: StageId;
  readonly signal: string;
  readonly periodSec: number;
  /** Measuring range: a value held at either end is clipping, not a stuck sensor. */
  readonly min: number;
  readonly max: number;
}

export interface Band {
  readonly min: number;
  readonly max: number;
}

interface SignalState {
  /** Recent windows judged healthy; faulty windows never teach the baseline. */
  readonly ranges: RollingValues;
  /** 1 when the value changed in that window, else 0. */
  readonly moved: RollingValues;
  /** In-window excursions of healthy windows (backwash, pump cycles make some signals jumpy by design). */
  readonly excursions: RollingValues;
  /** |change of the window mean| between consecutive healthy windows. */
  readonly steps: RollingValues;
  lastMean: number | undefined;
  lastValue: number | undefined;
  lastSeen: number | undefined;
  unchangedSamples: number;
  outOfBandSince: number | undefined;
}

export function median(values: readonly number[]): number {
  return medianOfSorted([...values].sort((a, b) => a - b));
}

/**
 * A robust sigma of the signal's noise from the ranges of healthy windows: the range of a handful of
 * Gaussian samples is about 2 sigma, and the median of ranges ignores the odd disturbed window.
 */
export function robustSigma(medianRange: number, level: number): number {
  const floor = Math.max(1e-6, Math.abs(level) * 1e-4);
  return Number.isFinite(medianRange) ? Math.max(medianRange / 2, floor) : floor;
}

/**
 * Sensor-level checks plants expect next to a model: stuck, spike, out of band for too long, and
 * dropout. Stateful per signal (event time only); `update` is fed one stage window at a time and returns
 * the conditions active after it.
 */
export class SensorChecks {
  private readonly state = new Map<string, SignalState>();

  constructor(
    private readonly config: SensorChecksConfig,
    private readonly signals: readonly CheckedSignal[],
    private bands: ReadonlyMap<string, Band> = new Map(),
  ) {}

  /** Learned bands change when an anomaly model is swapped. */
  setBands(bands: ReadonlyMap<string, Band>): void {
    this.bands = bands;
  }

  private stateOf(key: string): SignalState {
    let s = this.state.get(key);
    if (!s) {
      const n = this.config.historyWindows;
      s = { ranges: new RollingValues(n), moved: new RollingValues(n), excursions: new RollingValues(n), steps: new RollingValues(n), lastMean: undefined, lastValue: undefined, lastSeen: undefined, unchangedSamples: 0, outOfBandSince: undefined };
      this.state.set(key, s);
    }
    return s;
  }

  update(window: StageWindow): SensorFlag[] {
    if (!this.config.enabled) return [];
    const flags: SensorFlag[] = [];
    const spanSec = (window.end - window.start) / 1000;
    for (const signal of this.signals) {
      if (signal.stage !== window.stage) continue;
      const key = `${signal.stage}.${signal.signal}`;
      const s = this.stateOf(key);
      const features = window.signals[signal.signal];
      const flag = (check: SensorCheckKind, message: string): void => {
        flags.push({ stage: signal.stage, signal: signal.signal, check, message });
      };
      if (!features || features.stale) {
        // A slow analyzer may legitimately skip a short window; a signal expected several times may not.
        const expected = spanSec / signal.periodSec;
        if (s.lastSeen !== undefined && (features?.stale === true || expected >= 2)) flag('dropout', `${key}: no fresh readings in the window`);
        continue;
      }
      s.lastSeen = window.end;
      const band = this.config.bands[key] ?? this.bands.get(key);
      const judged = this.judge(s, features, band, window, signal, flag);
      if (!judged.faulty) {
        s.ranges.push(features.max - features.min);
        s.moved.push(judged.moved ? 1 : 0);
        if (s.lastMean !== undefined) s.steps.push(Math.abs(features.mean - s.lastMean));
      }
      s.lastMean = features.mean;
      // Spikes teach the excursion baseline too: a signal that jumps in every few windows (backwash,
      // pump cycles) stops being flagged, while a one-off spike hardly moves the 90th percentile.
      if (!judged.faulty || judged.spikeOnly) s.excursions.push(judged.excursion);
    }
    return flags;
  }

  private judge(
    s: SignalState,
    f: SignalFeatures,
    band: Band | undefined,
    window: StageWindow,
    signal: CheckedSignal,
    flag: (check: SensorCheckKind, message: string) => void,
  ): { faulty: boolean; moved: boolean; excursion: number; spikeOnly: boolean } {
    const key = `${signal.stage}.${signal.signal}`;
    let faulty = false;
    let excursion = 0;
    let spiked = false;
    let stuckNow = false;
    const before = s.lastValue ?? f.mean;
    const moved = f.max !== f.min || (s.lastValue !== undefined && f.last !== s.lastValue);
    // Identical consecutive readings; a flat window extends the run only if it also held the previous value.
    s.unchangedSamples = f.max !== f.min ? 0 : f.last === s.lastValue ? s.unchangedSamples + f.count : f.count;
    s.lastValue = f.last;
    const warm = s.ranges.length >= this.config.warmupWindows;
    // "Normally moves": most healthy windows saw a change; a pump state or a fixed setpoint never does.
    const normallyMoves = warm && s.moved.sum() >= 0.75 * s.moved.length;
    const clipped = f.last <= signal.min || f.last >= signal.max;
    if (f.max === f.min && normallyMoves && !clipped && s.unchangedSamples >= this.config.stuckPeriods) {
      flag('stuck', `${key}: ${s.unchangedSamples} identical readings (${f.last})`);
      stuckNow = true;
      faulty = true;
    }
    if (warm) {
      const sigma = robustSigma(s.ranges.median(), f.mean);
      // An excursion beyond both the level before the window and the level at its end: a step leaves
      // one of them at the new level, a spike neither.
      const up = f.max - Math.max(f.mean, f.last, before);
      const down = Math.min(f.mean, f.last, before) - f.min;
      excursion = Math.max(up, down);
      // Well beyond the largest excursions healthy windows had: a backwash or a pump cycle is no spike.
      const usual = 3 * s.excursions.quantile(0.9);
      // A jump: the mean moved from one window to the next far more than the signal ever does
      // (a bias appearing, a recalibration); a process change ramps over several windows.
      const step = s.lastMean === undefined ? 0 : Math.abs(f.mean - s.lastMean);
      const usualStep = this.config.jumpFactor * s.steps.quantile(0.95);
      // Actuator feedbacks (dosing, recycle and wasting flows, aeration, backwash) step with their setpoint.
      const actuated = this.config.actuated.includes(key);
      if (!actuated && s.steps.length >= 2 * this.config.warmupWindows && step > this.config.spikeSigmas * sigma && step > usualStep) {
        flag('spike', `${key}: jump of ${step.toPrecision(3)} between windows (usual up to ${(usualStep / this.config.jumpFactor).toPrecision(3)})`);
        faulty = true;
      }
      if (!actuated && f.count >= 3 && s.excursions.length >= 2 * this.config.warmupWindows && excursion > this.config.spikeSigmas * sigma && excursion > usual) {
        spiked = true;
        flag('spike', `${key}: excursion ${excursion.toPrecision(3)} beyond ${this.config.spikeSigmas} robust sigmas (${sigma.toPrecision(3)})`);
        faulty = true;
      }
    }
    if (band) {
      const outside = f.mean < band.min || f.mean > band.max;
      if (!outside) s.outOfBandSince = undefined;
      else {
        s.outOfBandSince ??= window.start;
        if ((window.end - s.outOfBandSince) / 1000 >= this.config.outOfRangeSec) {
          flag('out_of_range', `${key}: mean ${f.mean.toPrecision(4)} outside [${band.min.toPrecision(4)}, ${band.max.toPrecision(4)}] since ${new Date(s.outOfBandSince).toISOString()}`);
        }
        faulty = true;
      }
    }
    return { faulty, moved, excursion, spikeOnly: spiked && !stuckNow && s.outOfBandSince === undefined };
  }
}
