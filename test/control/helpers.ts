import type { StageId } from '../../src/contract/plant.js';
import type { PlantWindow, SignalFeatures, StageWindow } from '../../src/contract/ports.js';

/** Fresh features of a steady signal. */
export function steady(mean: number, extra: Partial<SignalFeatures> = {}): SignalFeatures {
  return { mean, last: mean, min: mean, max: mean, slope: 0, count: 5, filled: 0, stale: false, gappy: false, ...extra };
}

/** A PlantWindow from `{ 'aerobic/nh4_n': features }`. */
export function plantWindow(end: number, signals: Record<string, SignalFeatures>, quality = 1): PlantWindow {
  const stages: Partial<Record<StageId, StageWindow>> = {};
  for (const [key, f] of Object.entries(signals)) {
    const [stage, signal] = key.split('/') as [StageId, string];
    const w = (stages[stage] ??= { stage, start: end - 300_000, end, quality, signals: {} });
    (w.signals as Record<string, SignalFeatures>)[signal] = f;
  }
  return { start: end - 300_000, end, stages };
}

/** A plant where every loop has healthy inputs. */
export function healthyPlant(end: number, overrides: Record<string, SignalFeatures> = {}): PlantWindow {
  return plantWindow(end, {
    'influent/flow': steady(18446),
    'influent/nh4_n': steady(31.56),
    'influent/cod': steady(380),
    'influent/tn': steady(50),
    'anoxic/no3_n': steady(1),
    'aerobic/nh4_n': steady(1.5),
    'aerobic/mlss': steady(3300),
    'aerobic/no3_n': steady(10),
    'secondary/ras_tss': steady(6400),
    'membrane/tmp': steady(20, { slope: 2 }),
    'phosphorus/po4_p': steady(4),
    'effluent/flow': steady(18061),
    'effluent/tss': steady(13),
    ...overrides,
  });
}
