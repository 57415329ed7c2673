/**
 * The plant twin (BSM1 core with the product's nine stages): in-process simulation and the MQTT
 * twin behind `wwtp-edge sim` and `wwtp-edge demo`. See docs/twin.md.
 */
import { createTwin, type TwinOptions } from './twin.js';

export { createTwin, twinOptionsSchema, type Twin, type TwinOptions, type TwinStats } from './twin.js';
export { simulate, stabilisedState, type ControlCallback, type ControlContext, type SimulateOptions, type SimulateResult } from './simulate.js';
export { evaluatePerformance, type PerformanceFigures, type PerformanceSamples } from './performance.js';
export { createEngine, LOCAL_SETPOINTS, type Engine, type LoopSetpoints } from './engine.js';
export { loadScenario, parseScenario, groundTruth, SENSOR_FAULTS, PROCESS_FAULTS, type Fault, type FaultKind, type GroundTruth } from './faults.js';
export { loadInfluent, constantInfluent, type InfluentName, type InfluentSeries } from './influent.js';
export { SensorLayer, unmappedSignals, type Reading } from './sensors.js';
export { massBalance, primaryBalance, phosphorusBalance } from './balance.js';
export type { PlantKind } from './layout.js';

/** Options of `wwtp-edge sim` (validated by twinOptionsSchema). */
export type SimOptions = TwinOptions;

/** Runs `wwtp-edge sim` until its days are done or the signal aborts. */
export async function runSimCommand(opts: SimOptions, signal: AbortSignal, onProgress?: (doneDays: number, totalDays: number) => void): Promise<void> {
  const twin = createTwin({ truthFile: 'sim-ground-truth.jsonl', ...opts }, onProgress);
  const onAbort = (): void => { void twin.stop(); };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await twin.start(signal);
    await twin.finished();
  } finally {
    signal.removeEventListener('abort', onAbort);
    await twin.stop();
  }
}
