import type { PlantGeometry } from '../config/sections/plant-geometry.js';
import type { PlantWindow } from '../contract/ports.js';
import type { IndicatorRow } from '../contract/rows.js';
import { INDICATORS } from './catalogue.js';
import type { IndicatorDefinition } from './define.js';

export { INDICATORS } from './catalogue.js';
export { freshMean, type IndicatorDefinition, type SignalRef } from './define.js';

/**
 * The process indicators of one plant window, stamped with the window end. An indicator whose
 * inputs are missing or stale, or whose value would not be finite, is left out.
 */
export function computeIndicators(
  window: PlantWindow,
  geometry: PlantGeometry,
  definitions: readonly IndicatorDefinition[] = INDICATORS,
): IndicatorRow[] {
  const rows: IndicatorRow[] = [];
  for (const d of definitions) {
    const value = d.evaluate(window, geometry);
    if (value === undefined || !Number.isFinite(value)) continue;
    rows.push({ stage: d.stage, name: d.name, ts: window.end, value, unit: d.unit });
  }
  return rows;
}
