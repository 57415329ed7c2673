import type { PlantWindow } from '../contract/ports.js';
import type { LevelShiftConfig } from '../config/sections/models.js';
import { freshFeature, freshMean, splitSignalRef, type SignalRef } from '../indicators/define.js';
import { median, type SensorFlag } from './sensor-checks.js';
import { maxOf } from '../lib/extent.js';

interface Point {
  readonly end: number;
  readonly value: number;
}

/** Scale of a normal distribution's sigma from the median absolute deviation. */
const MAD_TO_SIGMA = 1.4826;

const valuesIn = (points: readonly Point[], from: number, to: number): number[] => points.filter((p) => p.end > from && p.end <= to).map((p) => p.value);

/** The watched quantity of one window: a feature of the signal, per a feature of another signal if asked. */
function quantityOf(plant: PlantWindow, s: LevelShiftConfig): number | undefined {
  const value = freshFeature(plant, s.signal, s.feature);
  if (value === undefined || !s.per) return value;
  const per = freshFeature(plant, s.per, s.perFeature);
  return per === undefined || !(per > 0) ? undefined : value / per;
}

/**
 * A quantity's recent level (median over `confirmSec`) away from its baseline (median over the
 * `baselineSec` before) by more than `change` of the baseline, in the watched direction, and by more
 * than the baseline's own scatter explains, unless the load rose above (1 + loadRise) x its longer
 * baseline (then the shift has its explanation: more flux, more fouling per cycle). Medians keep a single
 * odd window from raising or hiding it. Judged only once the baseline period is covered.
 */
export class LevelShifts {
  private readonly history = new Map<string, Point[]>();

  constructor(private readonly shifts: readonly LevelShiftConfig[]) {}

  private remember(key: string, end: number, value: number | undefined, keepMs: number): Point[] {
    let points = this.history.get(key);
    if (!points) {
      points = [];
      this.history.set(key, points);
    }
    if (value !== undefined && (points.at(-1)?.end ?? -Infinity) < end) points.push({ end, value });
    while (points.length > 0 && (points[0]?.end ?? end) < end - keepMs) points.shift();
    return points;
  }

  update(plant: PlantWindow): SensorFlag[] {
    const flags: SensorFlag[] = [];
    const end = plant.end;
    for (const s of this.shifts) {
      const confirmMs = s.confirmSec * 1000;
      const baselineMs = s.baselineSec * 1000;
      const points = this.remember(`${s.id}:value`, end, quantityOf(plant, s), confirmMs + baselineMs);
      const load = s.load ? this.remember(`${s.id}:load`, end, freshMean(plant, s.load as SignalRef), confirmMs + s.loadBaselineSec * 1000) : undefined;
      const first = points[0];
      if (!first || first.end > end - confirmMs - baselineMs + (plant.end - plant.start)) continue;
      const split = end - confirmMs;
      const before = valuesIn(points, -Infinity, split);
      const now = valuesIn(points, split, end);
      const baseline = median(before);
      const recent = median(now);
      const moved = s.direction === 'fall' ? baseline - recent : recent - baseline;
      // The shift must also stand out of the baseline's own scatter: `sigmas` standard errors of the recent median.
      const sigma = MAD_TO_SIGMA * median(before.map((v) => Math.abs(v - baseline)));
      if (!(moved > s.change * Math.abs(baseline) && moved > (s.sigmas * sigma) / Math.sqrt(now.length))) continue;
      if (load) {
        const loadBaseline = median(valuesIn(load, -Infinity, split));
        const loadNow = maxOf(valuesIn(load, split, end));
        if (!Number.isFinite(loadNow) || !(loadNow < (1 + s.loadRise) * loadBaseline)) continue;
      }
      const what = `${s.signal} ${s.feature}${s.per ? ` per ${s.per} ${s.perFeature}` : ''}`;
      flags.push({
        ...splitSignalRef(s.signal),
        check: 'shift',
        message: `${s.id}: ${what} ${recent.toPrecision(3)}, ${((moved / Math.abs(baseline)) * 100).toFixed(0)} % ${s.direction === 'fall' ? 'below' : 'above'} its level of ${baseline.toPrecision(3)}${s.load ? ` while ${s.load} did not rise` : ''}`,
      });
    }
    return flags;
  }
}
