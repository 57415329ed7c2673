import type { SignalFeatures } from '../contract/ports.js';

/** One point of a signal in event time. */
export interface Sample {
  readonly ts: number;
  readonly value: number;
}

export interface GapRules {
  /** Gaps up to this many sampling periods are filled. */
  readonly maxGapPeriods: number;
  /** No reading for more than this many periods: stale. */
  readonly staleAfterPeriods: number;
}

export interface SignalSpan {
  readonly periodMs: number;
  /** The last reading before the window, if any (used to fill the window's leading gap). */
  readonly carry: Sample | undefined;
  /** The readings inside [start, end), sorted by ts, one per ts. */
  readonly readings: readonly Sample[];
}

export interface FeatureWindow {
  readonly start: number;
  readonly end: number;
  /**
   * Event time up to which the signal is judged (trailing gap, staleness): the window end, or the
   * latest event time seen when a window is flushed before its end.
   */
  readonly asOf: number;
}

/**
 * Features of one signal over one window. Short gaps between readings are filled by linear
 * interpolation, a short trailing gap by the last value carried forward; a gap longer than
 * `maxGapPeriods` is left empty and marks the signal gappy. Gap lengths are rounded to whole periods so
 * that timestamp jitter does not flip a signal between filled and gappy. Returns undefined when the
 * signal has never had a reading.
 */
export function signalFeatures(span: SignalSpan, window: FeatureWindow, rules: GapRules): SignalFeatures | undefined {
  const { periodMs, carry, readings } = span;
  const samples: Sample[] = [];
  let filled = 0;
  let gappy = false;
  let previous = carry;
  for (const reading of readings) {
    if (previous) {
      const periods = Math.round((reading.ts - previous.ts) / periodMs);
      if (periods > rules.maxGapPeriods) {
        if (reading.ts > window.start) gappy = true;
      } else {
        for (let t = previous.ts + periodMs; t < reading.ts - periodMs / 2; t += periodMs) {
          if (t < window.start) continue;
          const share = (t - previous.ts) / (reading.ts - previous.ts);
          samples.push({ ts: t, value: previous.value + share * (reading.value - previous.value) });
          filled += 1;
        }
      }
    }
    samples.push(reading);
    previous = reading;
  }
  const last = previous;
  if (!last) return undefined;

  // Expected samples that have not come by asOf; a reading due just before asOf is given half a period.
  const due = Math.max(0, Math.ceil((window.asOf - periodMs / 2 - last.ts) / periodMs) - 1);
  if (due + 1 > rules.maxGapPeriods) {
    gappy = true;
  } else {
    for (let j = 1; j <= due; j += 1) {
      const t = last.ts + j * periodMs;
      if (t < window.start) continue;
      samples.push({ ts: t, value: last.value });
      filled += 1;
    }
  }
  const stale = window.asOf - last.ts > rules.staleAfterPeriods * periodMs;

  if (samples.length === 0) {
    return { mean: last.value, last: last.value, min: last.value, max: last.value, slope: 0, count: 0, filled: 0, stale, gappy };
  }
  samples.sort((a, b) => a.ts - b.ts);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of samples) {
    sum += s.value;
    if (s.value < min) min = s.value;
    if (s.value > max) max = s.value;
  }
  const lastSample = samples[samples.length - 1] ?? last;
  return {
    mean: sum / samples.length,
    last: lastSample.value,
    min,
    max,
    slope: slopePerHour(samples, window.start),
    count: readings.length,
    filled,
    stale,
    gappy,
  };
}

/** Least-squares slope in value units per hour; 0 with fewer than two distinct times. */
export function slopePerHour(samples: readonly Sample[], origin: number): number {
  const n = samples.length;
  if (n < 2) return 0;
  let sumT = 0;
  let sumV = 0;
  for (const s of samples) {
    sumT += (s.ts - origin) / 3_600_000;
    sumV += s.value;
  }
  const meanT = sumT / n;
  const meanV = sumV / n;
  let sxx = 0;
  let sxy = 0;
  for (const s of samples) {
    const dt = (s.ts - origin) / 3_600_000 - meanT;
    sxx += dt * dt;
    sxy += dt * (s.value - meanV);
  }
  if (sxx <= 0) return 0;
  const slope = sxy / sxx;
  return Number.isFinite(slope) ? slope : 0;
}
