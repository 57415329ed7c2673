import type { StateStore } from '../contract/ports.js';
import type { LoopId } from '../contract/plant.js';

/** What a loop remembers across windows and restarts (kept in the StateStore). */
/** A setpoint a loop in advisory mode computed, awaiting an operator's decision. */
export interface Recommendation {
  readonly value: number;
  readonly ts: number;
  readonly mode: 'auto' | 'fallback';
  readonly reason: string;
  readonly model?: string | undefined;
  readonly inputs: Readonly<Record<string, number>>;
}

export type LoopModeName = 'auto' | 'manual' | 'advisory';

export interface LoopMemory {
  readonly mode: LoopModeName;
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
  /** Advisory mode: the latest recommendation, until accepted, rejected or replaced by the next window. */
  readonly pending?: Recommendation | undefined;
}

export const loopStateKey = (loop: LoopId): string => `control.loop.${loop}`;

export function loadLoopMemory(state: StateStore, loop: LoopId): LoopMemory {
  const stored = state.getState<LoopMemory>(loopStateKey(loop));
  if (!stored || typeof stored !== 'object') return { mode: 'auto' };
  const mode = stored.mode === 'manual' || stored.mode === 'advisory' ? stored.mode : 'auto';
  const last = stored.last && Number.isFinite(stored.last.value) && Number.isFinite(stored.last.ts) ? stored.last : undefined;
  return { ...stored, mode, last };
}

export function saveLoopMemory(state: StateStore, loop: LoopId, memory: LoopMemory): void {
  state.setState(loopStateKey(loop), memory);
}
