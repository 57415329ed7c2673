import type { PlantWindow } from '../contract/ports.js';
import type { FlowBalanceConfig } from '../config/sections/models.js';
import { freshMean, splitSignalRef, type SignalRef } from '../indicators/define.js';
import type { SensorFlag } from './sensor-checks.js';

/** Sum of the window means of `keys`, or undefined when one of them has no fresh readings. */
export function sumOf(plant: PlantWindow, keys: readonly string[]): number | undefined {
  let total = 0;
  for (const key of keys) {
    const mean = freshMean(plant, key as SignalRef);
    if (mean === undefined) return undefined;
    total += mean;
  }
  return total;
}

/**
 * Hydraulic balance over the plant window: what flows in leaves again as effluent and sludge (the
 * tanks overflow at constant volume). A flow meter with a bias or a wrong scaling breaks it at once,
 * where the meter's own history (a storm doubles the flow) cannot tell. The flag goes to the balance's
 * first inflow meter; its message names both sides.
 */
export function checkFlowBalances(balances: readonly FlowBalanceConfig[], plant: PlantWindow): SensorFlag[] {
  const flags: SensorFlag[] = [];
  for (const b of balances) {
    const inflow = sumOf(plant, b.inflow);
    const outflow = sumOf(plant, b.outflow);
    if (inflow === undefined || outflow === undefined || inflow < b.minInflow) continue;
    const imbalance = (inflow - outflow) / inflow;
    if (Math.abs(imbalance) <= b.tolerance) continue;
    const first = splitSignalRef(b.inflow[0] ?? '');
    flags.push({
      stage: first.stage,
      signal: first.signal,
      check: 'balance',
      message: `flow balance ${b.id}: in ${inflow.toPrecision(4)}, out ${outflow.toPrecision(4)} (${(imbalance * 100).toFixed(0)} %, tolerance ${(b.tolerance * 100).toFixed(0)} %)`,
    });
  }
  return flags;
}
