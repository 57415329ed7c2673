/**
 * The plant twin (BSM1 core with the product's nine stages): in-process simulation and the MQTT
 * twin behind `wwtp-edge sim` and `wwtp-edge demo`. See docs/twin.md.
 */
import { createTwin, type TwinOptions, type TwinStats } from './twin.js';
import { generateInfluent } from './influent-gen.js';
import type { PlantKind } from './layout.js';
import { bsm1Installed, defaultDataDir, stabilisedState } from './simulate.js';

export { createTwin, twinOptionsSchema, type Twin, type TwinOptions, type TwinStats } from './twin.js';
export { simulate, stabilisedState, twinInfluent, bsm1Installed, defaultDataDir, type ControlCallback, type ControlContext, type SimulateOptions, type SimulateResult } from './simulate.js';
export { evaluatePerformance, type PerformanceFigures, type PerformanceSamples } from './performance.js';
export { createEngine, LOCAL_SETPOINTS, type Engine, type LoopSetpoints } from './engine.js';
export { loadScenario, parseScenario, groundTruth, SENSOR_FAULTS, PROCESS_FAULTS, type Fault, type FaultKind, type GroundTruth } from './faults.js';
export { loadInfluent, constantInfluent, MissingDataError, isNamedInfluent, influentPath, type InfluentName, type InfluentSeries } from './influent.js';
export { generateInfluent, type GeneratedInfluentOptions } from './influent-gen.js';
export { plantClock, type PlantClockOptions } from './clock.js';
export { SensorLayer, unmappedSignals, type Reading } from './sensors.js';
export { massBalance, primaryBalance, phosphorusBalance } from './balance.js';
export type { PlantKind } from './layout.js';

/** Options of `wwtp-edge sim` (validated by twinOptionsSchema). */
export type SimOptions = TwinOptions;

/**
 * Computes the twin's start state ahead (cached per process, about the cost of 114 plant days), so that
 * a twin started afterwards publishes at once. Says which weather the twin reads.
 */
export function prepareTwin(opts: { plant?: PlantKind; dataDir?: string } = {}): { influent: string } {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const installed = bsm1Installed(dataDir);
  stabilisedState('closed', dataDir, false, opts.plant ?? 'full', installed ? undefined : generateInfluent({ seed: 0, rainPerWeek: 0 }));
  return { influent: installed ? 'the BSM1 weather files' : 'the generated influent (BSM1 files not installed)' };
}

/** Runs `wwtp-edge sim` until its days are done or the signal aborts; resolves with its figures. */
export async function runSimCommand(opts: SimOptions, signal: AbortSignal, onProgress?: (doneDays: number, totalDays: number) => void): Promise<TwinStats> {
  const twin = createTwin(opts, onProgress);
  const onAbort = (): void => { void twin.stop(); };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await twin.start(signal);
    await twin.finished();
    return twin.stats;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await twin.stop();
  }
}
