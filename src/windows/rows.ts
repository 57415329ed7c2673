import type { PlantWindow, StageWindow } from '../contract/ports.js';
import type { StageId } from '../contract/plant.js';
import type { WindowRow } from '../contract/rows.js';

/** The stored form of a stage window (table `windows`, key stage + windowEnd). */
export function toWindowRow(window: StageWindow): WindowRow {
  return {
    stage: window.stage,
    windowStart: window.start,
    windowEnd: window.end,
    quality: window.quality,
    features: JSON.stringify(window.signals),
  };
}

/**
 * Stored stage windows back into plant windows, oldest first (rows of one window end join one PlantWindow).
 * A row whose features do not parse is left out.
 */
export function fromWindowRows(rows: readonly WindowRow[]): PlantWindow[] {
  const byEnd = new Map<number, { start: number; stages: Partial<Record<StageId, StageWindow>> }>();
  for (const row of rows) {
    let signals: StageWindow['signals'];
    try {
      signals = JSON.parse(row.features) as StageWindow['signals'];
    } catch {
      continue;
    }
    if (signals === null || typeof signals !== 'object') continue;
    const plant = byEnd.get(row.windowEnd) ?? { start: row.windowStart, stages: {} };
    plant.stages[row.stage as StageId] = { stage: row.stage as StageId, start: row.windowStart, end: row.windowEnd, quality: row.quality, signals };
    byEnd.set(row.windowEnd, plant);
  }
  return [...byEnd.entries()].sort((a, b) => a[0] - b[0]).map(([end, p]) => ({ start: p.start, end, stages: p.stages }));
}
