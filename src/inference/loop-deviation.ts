import type { PlantWindow, SetpointView } from '../contract/ports.js';
import type { LoopDeviationConfig } from '../config/sections/models.js';
import { freshMean, splitSignalRef, type SignalRef } from '../indicators/define.js';
import type { SensorFlag } from './sensor-checks.js';

/**
 * Each listed loop's measured value against the setpoints published for it: the window mean may sit
 * anywhere between the lowest and highest setpoint in effect over the window and its settling time
 * before it (the PLC and the process follow a step gradually), plus the band. Outside that for `forSec`
 * of event time: flagged. No judgement while the daemon's setpoint was not valid all along (the PLC on
 * its own setpoint), the value has no fresh readings, or, for a deviation not yet under way, the loop's
 * actuator sits at a limit (the plant cannot do more or less: capacity, not a fault, and a fallback
 * setpoint would only cost energy).
 */
export class LoopDeviations {
  /** Each loop's deviation under way: outside its band since, flagged yet, back inside since. */
  private readonly episodes = new Map<string, { since: number; flagged: boolean; backSince: number | undefined }>();
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
      let episode = this.episodes.get(d.loop);
      // The actuator guard keeps a deviation from starting; one already under way is followed to its
      // end even if the actuator then runs to a limit (as it does when the loop falls back because of it).
      if (value === undefined || range === undefined || (atLimit && !episode)) {
        this.episodes.delete(d.loop);
        continue;
      }
      const distance = Math.max(range.min - value, value - range.max, 0);
      const spText = range.min === range.max ? range.min.toPrecision(3) : `${range.min.toPrecision(3)}-${range.max.toPrecision(3)}`;
      const flag = (message: string): void => void flags.push({ ...splitSignalRef(d.signal), check: 'deviation', message: `loop ${d.loop}: ${d.signal} ${value.toPrecision(3)} ${message}` });
      if (distance > d.band) {
        episode ??= { since: plant.start, flagged: false, backSince: undefined };
        episode.backSince = undefined;
        this.episodes.set(d.loop, episode);
        if (plant.end - episode.since < d.forSec * 1000) continue;
        episode.flagged = true;
        flag(`away from its setpoint ${spText} by more than ${d.band} since ${new Date(episode.since).toISOString()}`);
        continue;
      }
      // Back within the band: a flagged deviation clears only after clearSec, so that the loop's own
      // fallback step (which the band follows for settleSec) does not make it flicker.
      if (!episode?.flagged) {
        this.episodes.delete(d.loop);
        continue;
      }
      episode.backSince ??= plant.start;
      if (plant.end - episode.backSince >= d.clearSec * 1000) {
        this.episodes.delete(d.loop);
        continue;
      }
      flag(`back within ${d.band} of its setpoint ${spText} since ${new Date(episode.backSince).toISOString()}, not yet for ${d.clearSec} s`);
    }
    return flags;
  }
}
