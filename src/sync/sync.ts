import { Counter, Gauge } from 'prom-client';
import type { SyncConfig } from '../config/schema.js';
import type { HistoryTable } from '../contract/rows.js';
import type { Clock } from '../lib/clock.js';
import { EdgeError, type Component } from '../lib/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { CENTRAL_TARGET, type Store } from '../store/store.js';
import { backoffDelay } from './backoff.js';
import type { CentralSink } from './central.js';
import { createMariadbSink } from './mariadb-sink.js';

/** What the sync needs from the store. */
export type SyncStore = Pick<Store, 'readAfter' | 'getCursor' | 'setCursor' | 'maxSeq'>;

export interface SyncLagEvent {
  readonly table: HistoryTable;
  readonly lagSec: number;
  /** true: lag passed sync.lagAlarmSec; false: back under it. */
  readonly raised: boolean;
  readonly ts: number;
}

export interface SyncContext {
  readonly site: string;
  readonly store: SyncStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly onLagAlarm?: (event: SyncLagEvent) => void;
  /** Defaults to the MariaDB sink from `sync.mariadb`. */
  readonly sink?: CentralSink;
  readonly random?: () => number;
}

export interface TableSyncStatus {
  readonly cursor: number;
  readonly pending: number;
  readonly lagSec: number;
  readonly caughtUpAt: number | undefined;
}

export interface SyncStatus {
  readonly connected: boolean;
  readonly lastError: string | undefined;
  readonly failures: number;
  readonly tables: Readonly<Partial<Record<HistoryTable, TableSyncStatus>>>;
}

/** Alarms and setpoints first: after an outage the rows an operator cares about land first. */
const ORDER: readonly HistoryTable[] = ['alarm_events', 'operator_actions', 'model_events', 'setpoints', 'anomalies', 'predictions', 'shadow_outputs', 'indicators', 'windows', 'readings'];

function gauge(metrics: Metrics, name: string, help: string): Gauge<'table'> {
  return (metrics.registry.getSingleMetric(name) as Gauge<'table'> | undefined) ?? new Gauge({ name, help, labelNames: ['table'] as const, registers: [metrics.registry] });
}
function counter(metrics: Metrics, name: string, help: string): Counter<'table'> {
  return (metrics.registry.getSingleMetric(name) as Counter<'table'> | undefined) ?? new Counter({ name, help, labelNames: ['table'] as const, registers: [metrics.registry] });
}

export type Sync = ReturnType<typeof createSync>;

export function createSync(config: SyncConfig, ctx: SyncContext) {
  const log = ctx.logger.child({ component: 'sync' });
  const sink = ctx.sink ?? createMariadbSink(config.mariadb, ctx.logger);
  const random = ctx.random ?? Math.random;
  const lagGauge = gauge(ctx.metrics, 'wwtp_edge_sync_lag_seconds', 'Seconds since the table was last fully synced (0 when nothing is pending)');
  const pendingGauge = gauge(ctx.metrics, 'wwtp_edge_sync_pending_rows', 'Rows not yet synced (upper bound from the seq range)');
  const rowsSynced = counter(ctx.metrics, 'wwtp_edge_sync_rows_total', 'Rows committed centrally');
  const errors = counter(ctx.metrics, 'wwtp_edge_sync_errors_total', 'Failed sync passes');
  const tables = ORDER.filter((t) => t !== 'readings' || config.readings === 'full');

  let createdAt = ctx.clock.now();
  let connected = false;
  let lastError: string | undefined;
  let failures = 0;
  let stopped = false;
  /** Set while stop() drains: a running pass ends after its current batch. */
  let halt = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const lagRaised = new Set<HistoryTable>();

  /** Passes never overlap: the background loop and syncNow take turns. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  }

  function tableStatus(table: HistoryTable, now: number): TableSyncStatus {
    const cursor = ctx.store.getCursor(CENTRAL_TARGET, table);
    const pending = Math.max(0, ctx.store.maxSeq(table) - cursor.seq);
    const since = cursor.caughtUpAt ?? createdAt;
    return { cursor: cursor.seq, pending, caughtUpAt: cursor.caughtUpAt, lagSec: pending > 0 ? Math.max(0, (now - since) / 1000) : 0 };
  }

  function updateLag(): void {
    const now = ctx.clock.now();
    for (const table of tables) {
      const s = tableStatus(table, now);
      lagGauge.set({ table }, s.lagSec);
      pendingGauge.set({ table }, s.pending);
      const over = s.lagSec > config.lagAlarmSec;
      if (over === lagRaised.has(table)) continue;
      if (over) lagRaised.add(table);
      else lagRaised.delete(table);
      log.warn({ table, lagSec: s.lagSec, raised: over }, over ? 'sync lag past the alarm limit' : 'sync lag back under the alarm limit');
      try {
        ctx.onLagAlarm?.({ table, lagSec: s.lagSec, raised: over, ts: now });
      } catch (error) {
        ctx.metrics.handlerErrors.inc({ component: 'sync' });
        log.error({ err: error }, 'lag alarm callback failed');
      }
    }
  }

  function pendingTotal(): number {
    return tables.reduce((n, t) => n + Math.max(0, ctx.store.maxSeq(t) - ctx.store.getCursor(CENTRAL_TARGET, t).seq), 0);
  }

  /** One catch-up pass over every table; the cursor moves only after the central commit. */
  async function pass(onProgress?: (done: number, total: number) => void): Promise<number> {
    const started = ctx.clock.now();
    const readingsTop = ctx.store.maxSeq('readings');
    const total = pendingTotal();
    let done = 0;
    onProgress?.(0, total);
    await sink.connect();
    connected = true;
    for (const table of tables) {
      const upTo = ctx.store.maxSeq(table);
      let cursor = ctx.store.getCursor(CENTRAL_TARGET, table).seq;
      while (cursor < upTo && !halt) {
        const batch = ctx.store.readAfter(table, cursor, config.batchRows);
        if (batch.rows.length === 0) break;
        await sink.write(table, batch.rows);
        ctx.store.setCursor(CENTRAL_TARGET, table, batch.lastSeq);
        rowsSynced.inc({ table }, batch.rows.length);
        done += batch.lastSeq - cursor;
        cursor = batch.lastSeq;
        onProgress?.(Math.min(done, total), total);
      }
      if (cursor >= upTo) ctx.store.setCursor(CENTRAL_TARGET, table, cursor, started);
    }
    if (config.readings === 'aggregates' && !halt) {
      // Raw readings travel as window aggregates: once the windows are synced the readings count as forwarded.
      ctx.store.setCursor(CENTRAL_TARGET, 'readings', readingsTop, started);
    }
    onProgress?.(total, total);
    updateLag();
    return done;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ctx.clock.setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        timer.clear();
        wake = undefined;
        resolve();
      };
    });
  }

  async function run(): Promise<void> {
    while (!stopped) {
      let delay = config.intervalMs;
      try {
        await exclusive(() => pass());
        if (failures > 0) log.info({ failures }, 'central server reachable again');
        failures = 0;
        lastError = undefined;
      } catch (error) {
        connected = false;
        failures++;
        errors.inc({ table: 'all' });
        lastError = error instanceof Error ? error.message : String(error);
        if (failures === 1) log.warn({ err: error }, 'sync failed; retrying with backoff');
        delay = backoffDelay(failures, config.backoffMinMs, config.backoffMaxMs, random);
        try {
          updateLag();
        } catch (lagError) {
          log.error({ err: lagError }, 'sync lag update failed');
        }
      }
      if (!stopped) await sleep(delay);
    }
  }

  const sync = {
    name: 'sync',
    async start(signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw new EdgeError('START_CANCELLED', 'sync start cancelled');
      if (loop) return;
      stopped = false;
      createdAt = ctx.clock.now();
      // The central server may be down for days: start never waits for it.
      loop = run();
      await Promise.resolve();
    },
    async stop(): Promise<void> {
      stopped = true;
      halt = true;
      wake?.();
      if (loop) await loop;
      loop = undefined;
      await chain;
      halt = false;
      await sink.close();
    },
    status(): SyncStatus {
      const now = ctx.clock.now();
      const byTable: Partial<Record<HistoryTable, TableSyncStatus>> = {};
      for (const t of tables) byTable[t] = tableStatus(t, now);
      return { connected, lastError, failures, tables: byTable };
    },
    /** Catches up everything now (CLI, tests); rejects when the central server is unreachable. */
    syncNow(onProgress?: (done: number, total: number) => void): Promise<number> {
      return exclusive(async () => {
        try {
          return await pass(onProgress);
        } catch (error) {
          connected = false;
          throw error;
        }
      });
    },
  } satisfies Component & Record<string, unknown>;
  return sync;
}
