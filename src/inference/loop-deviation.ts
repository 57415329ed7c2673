import type { PlantWindow, SetpointView } from '../contract/ports.js';
import type { LoopDeviationConfig } from '../config/sections/models.js';
import { freshMean, splitSignalRef, type SignalRef } from '../indicators/define.js';
import type { SensorFlag } from './sensor-checks.js';

/**
 * Each listed loop's measured value against the setpoints published for it: the window mean may sit
 * anywhere between the lowest and highest setpoint in effect over the window and its settling time
 * before it (the PLC and the process follow a step gradually), plus the band. Outside that for `forSec`
 * of event time: flagged. No judgement while the daemon's setpoint was not valid all along (the PLC on
 * its own setpoint) or the value has no fresh readings.
 */
export class LoopDeviations {
  /** Event time since which each loop's value has been outside its band. */
  private readonly outsideSince = new Map<string, number>();

  constructor(
    private readonly loops: readonly LoopDeviationConfig[],
    private readonly setpoints: SetpointView | undefined,
  ) {}

  update(plant: PlantWindow): SensorFlag[] {
    if (!this.setpoints) return [];
    const flags: SensorFlag[] = [];
    for (const d of this.loops) {
      const value = freshMean(plant, d.signal as SignalRef);
      const range = this.setpoints.range(d.loop, plant.start - d.settleSec * 1000, plant.end);
      if (value === undefined || range === undefined) {
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
