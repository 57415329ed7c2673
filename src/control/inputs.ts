import type { StageId } from '../contract/plant.js';
import type { PlantWindow } from '../contract/ports.js';
import type { AnomalyRow } from '../contract/rows.js';
import type { LoopConfig } from '../config/sections/control.js';
import { param, type SignalRef } from './policies/types.js';

/** Below this share of fresh signals a stage window is not trusted (loop param `minQuality`). */
const DEFAULT_MIN_QUALITY = 0.5;

/**
 * Why a loop must not run its policy on this window, or undefined when its inputs are fit: a required
 * signal missing, stale, gappy or not finite; a stage window of low quality; an anomaly on the loop's
 * stage or on a stage it reads.
 */
export function checkInputs(plant: PlantWindow, requires: readonly SignalRef[], loop: LoopConfig, anomalies: readonly AnomalyRow[]): string | undefined {
  const minQuality = param(loop.params, 'minQuality', DEFAULT_MIN_QUALITY);
  const stages = new Set<StageId>([loop.stage, ...requires.map((r) => r.stage)]);
  for (const ref of requires) {
    const stage = plant.stages[ref.stage];
    if (!stage) return `no ${ref.stage} window`;
    const f = stage.signals[ref.signal];
    if (!f) return `${ref.stage}/${ref.signal} missing`;
    if (f.stale) return `${ref.stage}/${ref.signal} stale`;
    if (!Number.isFinite(f.mean) || !Number.isFinite(f.last)) return `${ref.stage}/${ref.signal} not finite`;
    if (!(stage.quality >= minQuality)) return `${ref.stage} window quality ${stage.quality} below ${minQuality}`;
  }
  for (const a of anomalies) {
    if (a.isAnomaly && stages.has(a.stage)) return `anomaly on ${a.stage} (score ${a.score === null ? 'none' : a.score.toFixed(3)})`;
  }
  return undefined;
}
