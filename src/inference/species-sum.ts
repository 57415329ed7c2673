import type { PlantWindow } from '../contract/ports.js';
import type { SpeciesSumConfig } from '../config/sections/models.js';
import { freshMean, splitSignalRef, type SignalRef } from '../indicators/define.js';
import { sumOf } from './flow-balance.js';
import type { SensorFlag } from './sensor-checks.js';

/**
 * Species above their total in the window means: NH4-N + NO3-N over TN by more than `tolerance` of TN.
 * Which analyzer is wrong the sum cannot tell (a part reading high or the total reading low); the flag
 * goes to the total's signal and its message names every part.
 */
export function checkSpeciesSums(sums: readonly SpeciesSumConfig[], plant: PlantWindow): SensorFlag[] {
  const flags: SensorFlag[] = [];
  for (const s of sums) {
    const total = freshMean(plant, s.total as SignalRef);
    const parts = sumOf(plant, s.parts);
    if (total === undefined || parts === undefined || total < s.minTotal) continue;
    const excess = (parts - total) / total;
    if (excess <= s.tolerance) continue;
    flags.push({
      ...splitSignalRef(s.total),
      check: 'balance',
      message: `${s.id}: ${s.parts.join(' + ')} ${parts.toPrecision(3)} above ${s.total} ${total.toPrecision(3)} (+${(excess * 100).toFixed(0)} %, tolerance ${(s.tolerance * 100).toFixed(0)} %)`,
    });
  }
  return flags;
}
