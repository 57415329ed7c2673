import type { StageWindow } from '../contract/ports.js';
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
