import type { StateStore } from '../contract/ports.js';
import type { LoopId } from '../contract/plant.js';

/** What a loop remembers across windows and restarts (kept in the StateStore). */
export interface LoopMemory {
  readonly mode: 'auto' | 'manual';
  readonly manualValue?: number | undefined;
  readonly modeBy?: string | undefined;
  /** Last published setpoint: the base of the step limit. */
  readonly last?: { readonly value: number; readonly ts: number; readonly mode: 'auto' | 'manual' | 'fallback' } | undefined;
  /** Event time of the last window the loop handled; older or equal windows are ignored. */
  readonly lastWindowEnd?: number | undefined;
  /** Event time of the last policy run (integral terms advance by the time since). */
  readonly lastPolicyTs?: number | undefined;
  readonly policyState?: unknown;
  readonly fallbackActive?: boolean | undefined;
}

export const loopStateKey = (loop: LoopId): string => `control.loop.${loop}`;

export function loadLoopMemory(state: StateStore, loop: LoopId): LoopMemory {
  const stored = state.getState<LoopMemory>(loopStateKey(loop));
  if (!stored || typeof stored !== 'object') return { mode: 'auto' };
  const mode = stored.mode === 'manual' ? 'manual' : 'auto';
  const last = stored.last && Number.isFinite(stored.last.value) && Number.isFinite(stored.last.ts) ? stored.last : undefined;
  return { ...stored, mode, last };
}

export function saveLoopMemory(state: StateStore, loop: LoopId, memory: LoopMemory): void {
  state.setState(loopStateKey(loop), memory);
}
