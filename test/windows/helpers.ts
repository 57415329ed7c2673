import type { SignalConfig } from '../../src/config/sections/plant.js';
import type { WindowsConfig } from '../../src/config/sections/windows.js';
import type { StageId } from '../../src/contract/plant.js';
import type { StageWindow } from '../../src/contract/ports.js';
import type { Reading } from '../../src/contract/reading.js';
import { StageWindower, type WindowHooks, type WindowingConfig } from '../../src/windows/index.js';

/** 2024-01-01T00:00:00Z: a round start so windows end on clock marks. */
export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;

export function signal(stage: StageId, id: string, periodSec: number): SignalConfig {
  return { stage, id, unit: 'mg/L', min: -1e9, max: 1e9, periodSec };
}

export function windowsConfig(overrides: Partial<WindowsConfig> = {}): WindowsConfig {
  return { sizeSec: 300, slideSec: 300, allowedLatenessSec: 60, maxGapPeriods: 3, staleAfterPeriods: 5, maxIdleWindows: 288, maxLeadSec: 60, jumpShare: 0.5, maxAheadReadings: 10_000, ...overrides };
}

export function reading(stage: StageId, id: string, ts: number, value: number, quality: Reading['quality'] = 'good'): Reading {
  return { stage, signal: id, ts, value, quality, receivedAt: ts };
}

/** Pushes readings through a fresh windower and flushes it, as the operator does on completion. */
export function runWindower(config: WindowingConfig, readings: readonly Reading[], hooks?: WindowHooks): StageWindow[] {
  const windower = new StageWindower(config, hooks);
  const out: StageWindow[] = [];
  for (const r of readings) out.push(...windower.push(r));
  out.push(...windower.flush());
  return out;
}
