import type { PlantWindow, SetpointView } from '../contract/ports.js';
import type { LoopDeviationConfig } from '../config/sections/models.js';
import { freshMean, splitSignalRef, type SignalRef } from '../indicators/define.js';
import type { SensorFlag } from './sensor-checks.js';

/**
 * Each listed loop's measured value against the setpoints published for it: the window mean may sit
 * anywhere between the lowest and highest setpoint in effect over the window and its settling time
 * before it (the PLC and the process follow a step gradually), plus the band. Outside that for `forSec`
 * of event time: flagged. No judgement while the daemon's setpoint was not valid all along (the PLC on
 * its own setpoint), the value has no fresh readings, or the loop's actuator sits at a limit (the plant
 * cannot do more or less: capacity, not a fault, and a fallback setpoint would only cost energy).
 */
export class LoopDeviations {
  /** Event time since which each loop's value has been outside its band. */
  private readonly outsideSince = new Map<string, number>();
  /** Window means of each loop's actuator over its history, oldest first. */
  private readonly actuatorHistory = new Map<string, { end: number; value: number }[]>();

  constructor(
    private readonly loops: readonly LoopDeviationConfig[],
    private readonly setpoints: SetpointView | undefined,
  ) {}

  /** The actuator at its lowest or highest level seen over its history (the window itself included). */
  private actuatorAtLimit(d: LoopDeviationConfig, plant: PlantWindow): boolean {
    if (!d.actuator) return false;
    let history = this.actuatorHistory.get(d.loop);
    if (!history) {
      history = [];
      this.actuatorHistory.set(d.loop, history);
    }
    const now = freshMean(plant, d.actuator as SignalRef);
    if (now !== undefined && (history.at(-1)?.end ?? -Infinity) < plant.end) history.push({ end: plant.end, value: now });
    while (history.length > 0 && (history[0]?.end ?? plant.end) < plant.end - d.actuatorHistorySec * 1000) history.shift();
    // Without a fresh actuator reading the loop's state is unknown: no judgement.
    if (now === undefined) return true;
    let low = Infinity;
    let high = -Infinity;
    for (const p of history) {
      low = Math.min(low, p.value);
      high = Math.max(high, p.value);
    }
    const margin = d.actuatorMargin * (high - low);
    return now <= low + margin || now >= high - margin;
  }

  update(plant: PlantWindow): SensorFlag[] {
    if (!this.setpoints) return [];
    const flags: SensorFlag[] = [];
    for (const d of this.loops) {
      const atLimit = this.actuatorAtLimit(d, plant);
      const value = freshMean(plant, d.signal as SignalRef);
      const range = this.setpoints.range(d.loop, plant.start - d.settleSec * 1000, plant.end);
      if (value === undefined || range === undefined || atLimit) {
        this.outsideSince.delete(d.loop);
        continue;
      }
      const distance = Math.max(range.min - value, value - range.max, 0);
      if (distance <= d.band) {
        this.outsideSince.delete(d.loop);
        continue;
      }
      const since = this.outsideSince.get(d.loop) ?? plant.start;
      this.outsideSince.set(d.loop, since);
      if (plant.end - since < d.forSec * 1000) continue;
      const spText = range.min === range.max ? range.min.toPrecision(3) : `${range.min.toPrecision(3)}-${range.max.toPrecision(3)}`;
      flags.push({
        ...splitSignalRef(d.signal),
        check: 'deviation',
        message: `loop ${d.loop}: ${d.signal} ${value.toPrecision(3)} away from its setpoint ${spText} by more than ${d.band} since ${new Date(since).toISOString()}`,
      });
    }
    return flags;
  }
}
