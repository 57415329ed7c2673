import { Counter, Histogram } from 'prom-client';
import { Subject, concatMap, from, map, type Subscription } from 'rxjs';
import type { EdgeConfig } from './config/schema.js';
import type { PlantWindow, Publisher, TableWriter } from './contract/ports.js';
import type { Reading } from './contract/reading.js';
import type { AnomalyRow, IndicatorRow, PredictionRow } from './contract/rows.js';
import { computeIndicators } from './indicators/index.js';
import type { Component } from './lib/lifecycle.js';
import type { Logger } from './lib/logger.js';
import type { Metrics } from './lib/metrics.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLeftOutLog } from './windows/late-log.js';
import { alignPlant, stagesWithSignals, toWindowRow, windowStages, type WindowResume } from './windows/index.js';

/** What the active models made of a window, as the pipeline hands it on. */
export interface ModelsOutcome {
  readonly anomalies: AnomalyRow[];
  readonly untrusted: AnomalyRow[];
  readonly predictions: PredictionRow[];
}

/** What the pipeline needs from the model, alarm and control stages. */
export interface WindowConsumers<O extends ModelsOutcome = ModelsOutcome> {
  readonly inference: { onWindow(plant: PlantWindow): Promise<O> };
  readonly alarms: { onWindow(plant: PlantWindow, extras: { anomalies: readonly AnomalyRow[]; predictions: readonly PredictionRow[] }): void };
  readonly control: {
    onWindow(plant: PlantWindow, extras: { indicators: readonly IndicatorRow[]; predictions: readonly PredictionRow[]; anomalies: readonly AnomalyRow[] }): void;
  };
  /**
   * Work on the window once its setpoints went out (models in shadow, live skill, promotion): it never
   * delays control, and the next window waits for it, so it sees the windows in order.
   */
  readonly after?: { onWindow(plant: PlantWindow, outcome: O): Promise<void> } | undefined;
}

export interface PlantPipeline extends Component {
  /** Committed readings enter here (after their SQLite commit). */
  push(readings: readonly Reading[]): void;
  /** Readings pushed before the pipeline opened wait (bounded) and enter now, in order. */
  open(): void;
  /** Resolves once every window closed so far went through models and control. */
  idle(): Promise<void>;
}

/**
 * Committed readings -> per-stage windows (event time) -> one PlantWindow per window end ->
 * indicators, models, alarms, control, one window at a time, in order.
 */
export function createPlantPipeline<O extends ModelsOutcome>(ctx: WindowConsumers<O> & {
  readonly config: Readonly<EdgeConfig>;
  readonly publisher: Publisher;
  readonly tables: TableWriter;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Paces the per-minute summary of late and dropped readings. */
  readonly clock?: Clock | undefined;
  /** The windows a hard stop left open, read from the store when the pipeline starts (windowsOpenAtStop). */
  readonly resume?: (() => WindowResume | undefined) | undefined;
  /** Called after each PlantWindow went through the whole chain, with ms from its close (tests, benchmarks). */
  readonly onProcessed?: ((plant: PlantWindow, latencyMs: number) => void) | undefined;
}): PlantPipeline {
  const readings$ = new Subject<Reading>();
  let subscription: Subscription | undefined;
  let finished: Promise<void> = Promise.resolve();
  let pending = 0;
  let idleWaiters: (() => void)[] = [];
  /** Committed before intake opened (boot: the broker is up before the models); bounded, then counted. */
  let early: Reading[] | undefined = [];
  const EARLY_LIMIT = 100_000;
  const geometry = ctx.config.plant;
  const leftOut = createLeftOutLog(ctx.logger, ctx.clock ?? systemClock);

  const latency = new Histogram({
    name: 'wwtp_edge_window_to_setpoint_seconds',
    help: 'From a plant window closing to its setpoints being handed to the broker',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
    registers: [ctx.metrics.registry],
  });
  const readingsAhead = new Counter({
    name: 'wwtp_edge_readings_ahead_total',
    help: "Readings stamped too far ahead of the plant's event time, held out of the windows until other signals agree",
    labelNames: ['stage'] as const,
    registers: [ctx.metrics.registry],
  });
  const processWindow = async (plant: PlantWindow, closedAt: number): Promise<void> => {
    try {
      ctx.tables.insert('windows', Object.values(plant.stages).map((w) => toWindowRow(w)));
      const indicators = computeIndicators(plant, geometry);
      if (indicators.length > 0) ctx.tables.insert('indicators', indicators);
      for (const row of indicators) ctx.publisher.publish('indicator', { stage: row.stage, name: row.name }, { value: row.value, unit: row.unit, ts: row.ts });
      const outcome = await ctx.inference.onWindow(plant);
      const { anomalies, untrusted, predictions } = outcome;
      ctx.alarms.onWindow(plant, { anomalies, predictions });
      // Loops fall back on stages whose readings are in doubt; a process alarm (membrane fouling) is theirs to answer.
      ctx.control.onWindow(plant, { indicators, predictions, anomalies: untrusted });
      const ms = performance.now() - closedAt;
      latency.observe(ms / 1000);
      ctx.onProcessed?.(plant, ms);
      await after(plant, outcome);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'pipeline' });
      ctx.logger.error({ err: error instanceof Error ? error.stack : String(error), windowEnd: plant.end }, 'window processing failed');
    }
  };
  const after = async (plant: PlantWindow, outcome: O): Promise<void> => {
    if (!ctx.after) return;
    try {
      await ctx.after.onWindow(plant, outcome);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'lifecycle' });
      ctx.logger.error({ err: error instanceof Error ? error.stack : String(error), windowEnd: plant.end }, 'window work after control failed');
    }
  };

  const settle = (): void => {
    pending -= 1;
    if (pending === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach((w) => w());
    }
  };

  return {
    name: 'pipeline',
    async start() {
      leftOut.start();
      finished = new Promise<void>((resolve) => {
        subscription = readings$
          .pipe(
            windowStages(
              { windows: ctx.config.windows, signals: ctx.config.signals },
              {
                onLate: (reading, behindMs) => {
                  ctx.metrics.readingsLate.inc({ stage: reading.stage });
                  leftOut.late(reading, behindMs);
                },
                onAhead: (reading, aheadMs) => {
                  readingsAhead.inc({ stage: reading.stage });
                  leftOut.ahead(reading, aheadMs);
                },
                onAheadEvicted: () => ctx.metrics.queueOverflow.inc({ queue: 'windows_ahead' }),
                onDropped: (reading, reason) => {
                  ctx.metrics.readingsNotWindowed.inc({ reason });
                  leftOut.dropped(reading, reason);
                },
              },
              ctx.resume,
            ),
            alignPlant(stagesWithSignals(ctx.config.signals)),
            map((plant) => {
              pending += 1;
              return { plant, closedAt: performance.now() };
            }),
            concatMap(({ plant, closedAt }) => from(processWindow(plant, closedAt).finally(settle))),
          )
          .subscribe({
            error: (error: unknown) => {
              ctx.logger.error({ err: String(error) }, 'window stream failed');
              resolve();
            },
            complete: () => resolve(),
          });
      });
    },
    push(readings) {
      if (early) {
        const room = EARLY_LIMIT - early.length;
        early.push(...readings.slice(0, Math.max(0, room)));
        if (readings.length > room) ctx.metrics.queueOverflow.inc({ queue: 'windows_boot' }, readings.length - Math.max(0, room));
        return;
      }
      for (const reading of readings) readings$.next(reading);
    },
    open() {
      const waiting = early ?? [];
      early = undefined;
      for (const reading of waiting) readings$.next(reading);
    },
    idle() {
      return pending === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      if (!subscription) return;
      // Completing the source flushes the open windows through the whole chain.
      readings$.complete();
      await finished;
      subscription.unsubscribe();
      subscription = undefined;
      leftOut.stop();
    },
  };
}
