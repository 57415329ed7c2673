import { Observable, type OperatorFunction } from 'rxjs';
import type { StageId } from '../contract/plant.js';
import type { PlantWindow, StageWindow } from '../contract/ports.js';
import type { Reading } from '../contract/reading.js';
import { StageWindower, type WindowHooks, type WindowingConfig } from './windower.js';

/** Where the windows go on after a stop: the last stored window's end and the readings a hard stop left in the windows after it. */
export interface WindowResume {
  readonly lastEnd: number;
  /** In event-time order, each at or after the start of the window that follows `lastEnd`. */
  readonly readings: readonly Reading[];
}

/**
 * Readings in, closed stage windows out (event time, see StageWindower). With `resume`, the windows
 * left open by a hard stop are refilled from the store first and close as they would have. When the readings complete
 * (intake stopped at shutdown) the open windows are flushed before completing, so SIGTERM keeps the
 * last partial windows. A source error is passed on without a flush.
 */
export function windowStages(config: WindowingConfig, hooks?: WindowHooks, resume?: () => WindowResume | undefined): OperatorFunction<Reading, StageWindow> {
  return (source) =>
    new Observable<StageWindow>((subscriber) => {
      const windower = new StageWindower(config, hooks);
      const open = resume?.();
      if (open) {
        windower.resumeAfter(open.lastEnd);
        for (const reading of open.readings) for (const window of windower.push(reading)) subscriber.next(window);
      }
      return source.subscribe({
        next(reading) {
          for (const window of windower.push(reading)) subscriber.next(window);
        },
        error(error: unknown) {
          subscriber.error(error);
        },
        complete() {
          for (const window of windower.flush()) subscriber.next(window);
          subscriber.complete();
        },
      });
    });
}

/**
 * Groups the stage windows that share an end into one plant window. It is emitted as soon as every
 * stage in `stages` has reported (pass `stagesWithSignals(signals)`), else when a window with another
 * end arrives or the source completes.
 */
export function alignPlant(stages?: readonly StageId[]): OperatorFunction<StageWindow, PlantWindow> {
  return (source) =>
    new Observable<PlantWindow>((subscriber) => {
      let pending: { start: number; end: number; stages: Partial<Record<StageId, StageWindow>> } | undefined;
      const emit = (): void => {
        if (!pending) return;
        const plant: PlantWindow = pending;
        pending = undefined;
        subscriber.next(plant);
      };
      return source.subscribe({
        next(window) {
          if (pending && pending.end !== window.end) emit();
          pending ??= { start: window.start, end: window.end, stages: {} };
          pending.stages[window.stage] = window;
          const group = pending;
          if (stages && stages.length > 0 && stages.every((s) => group.stages[s] !== undefined)) emit();
        },
        error(error: unknown) {
          subscriber.error(error);
        },
        complete() {
          emit();
          subscriber.complete();
        },
      });
    });
}
