import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Counter, Gauge } from 'prom-client';
import type { StorageConfig } from '../config/schema.js';
import type { StateStore, ReadingSink, TableWriter } from '../contract/ports.js';
import type { DeadLetter, Reading } from '../contract/reading.js';
import type { HistoryTable, TableRows } from '../contract/rows.js';
import type { Clock } from '../lib/clock.js';
import { AUTOCHECKPOINT_PAGES, Checkpointer } from './checkpointer.js';
import { EdgeError, type Component } from '../lib/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { applyRetention, CLEAR_WATER, dataBudget, dataBytes, shedToBudget, walAllowance, type SheddingInfo, type UnderBudgetInfo } from './budget.js';
import { CommitQueue, type QueueEntry } from './commit-queue.js';
import { createDuplicateCheck, type Duplicate, type DuplicateKind } from './duplicates.js';
import { createReader, type HistoryFilter, type HistoryPage, type Reader } from './reader.js';
import { migrate } from './schema.js';
import { TABLE_SPECS, toSqlValues } from './tables.js';
import { WalSync } from './wal-sync.js';
import { createGroupCommit, createReadingWriter } from './writer.js';

export interface StoreContext {
  readonly site: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Sync to the central server is on: derived rows then age out only once synced. */
  readonly syncEnabled?: boolean;
}

export interface SyncCursor {
  /** Highest seq the target committed. */
  readonly seq: number;
  /** Wall time the target was last fully caught up, epoch ms. */
  readonly caughtUpAt: number | undefined;
}

/** The sync target whose cursors decide what counts as "synced" for shedding and retention. */
export const CENTRAL_TARGET = 'central';

/** How often the checkpoint worker copies the WAL into the database (and lets it start over past RESTART_BYTES). */
const CHECKPOINT_EVERY_MS = 250;
/** Attempts, 1 ms apart, of a truncating checkpoint on the daemon's own connection (budget passes). */
const COMPACT_TRIES = 50;
const BUSY_TIMEOUT_MS = 5_000;
/** Something to sleep on for a millisecond between those attempts. */
const pause = new Int32Array(new SharedArrayBuffer(4));

type Entry =
  | (QueueEntry & { readonly kind: 'readings'; readonly readings: readonly Reading[]; readonly deadLetters: readonly DeadLetter[] })
  | (QueueEntry & { readonly kind: 'deadletter'; readonly deadLetter: DeadLetter })
  | (QueueEntry & { readonly kind: 'derived'; readonly table: Exclude<HistoryTable, 'readings'>; readonly rows_: readonly unknown[] })
  | (QueueEntry & { readonly kind: 'state'; readonly key: string; readonly value: unknown });

const TRANSIENT = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL|NOMEM)/;

export type Store = ReturnType<typeof createStore>;

export function createStore(config: StorageConfig, ctx: StoreContext) {
  const log = ctx.logger.child({ component: 'store' });
  const registry = ctx.metrics.registry;
  const shedRows =
    (registry.getSingleMetric('wwtp_edge_store_shed_rows_total') as Counter<'table' | 'reason'> | undefined) ??
    new Counter({ name: 'wwtp_edge_store_shed_rows_total', help: 'Rows removed by the disk budget or retention', labelNames: ['table', 'reason'] as const, registers: [registry] });
  const duplicateReadings =
    (registry.getSingleMetric('wwtp_edge_duplicate_readings_total') as Counter<'kind'> | undefined) ??
    new Counter({
      name: 'wwtp_edge_duplicate_readings_total',
      help: 'Readings whose key (stage, signal, ts) was already stored: exact resends absorbed, conflicting ones dead-lettered',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
  for (const kind of ['exact', 'conflicting'] satisfies DuplicateKind[]) duplicateReadings.inc({ kind }, 0);
  const sizeGauge =
    (registry.getSingleMetric('wwtp_edge_store_size_bytes') as Gauge | undefined) ??
    new Gauge({ name: 'wwtp_edge_store_size_bytes', help: 'SQLite database, WAL and shared-memory files on disk', registers: [registry] });

  let db: Database.Database | undefined;
  let reader: Reader | undefined;
  let state = new Map<string, unknown>();
  let writeRows: ((batch: readonly Entry[]) => void) | undefined;
  let budgetTimer: { clear(): void } | undefined;
  let stopping: Promise<void> | undefined;
  let lastRetention = 0;
  const sheddingListeners = new Set<(info: SheddingInfo) => void>();
  const underBudgetListeners = new Set<(info: UnderBudgetInfo) => void>();
  const deadLetterListeners = new Set<(deadLetter: DeadLetter) => void>();
  /** Readings of an entry that repeated a stored key, set by its transaction, read once it is durable. */
  const duplicatesOf = new WeakMap<Entry, { readonly duplicates: readonly Duplicate[]; readonly letters: readonly DeadLetter[] }>();
  // synchronous=full: the group commits' WAL fsync (wal-sync.ts), in place for small commits on a fast disk, else off the event loop.
  const walSync = config.synchronous === 'full' ? new WalSync(`${config.path}-wal`, { inlineRows: config.inlineFsyncRows }) : undefined;

  const queue = new CommitQueue<Entry>({
    maxBatchRows: config.maxBatchRows,
    maxPendingRows: config.maxPendingRows,
    groupCommitMs: config.groupCommitMs,
    retryMs: 1_000,
    clock: ctx.clock,
    write: (batch) => {
      if (!writeRows) throw new EdgeError('STORE_CLOSED', 'store is not open');
      writeRows(batch);
    },
    ...(walSync ? { durable: (rows: number, done: (error: unknown) => void) => walSync.request(rows, done) } : {}),
    isTransient: (error) => typeof (error as { code?: unknown }).code === 'string' && TRANSIENT.test((error as { code: string }).code),
    onCommitted: (batch, rows, seconds) => {
      ctx.metrics.commitSeconds.observe(seconds);
      ctx.metrics.commitBatch.observe(rows);
      const byStage = new Map<string, number>();
      for (const e of batch) {
        if (e.kind !== 'readings') continue;
        for (const r of e.readings) byStage.set(r.stage, (byStage.get(r.stage) ?? 0) + 1);
        const found = duplicatesOf.get(e);
        if (found) committedDuplicates(found.duplicates, found.letters, byStage);
      }
      for (const [stage, n] of byStage) ctx.metrics.readingsIn.inc({ stage }, n);
    },
    onBurst: (failing, error) => {
      if (failing) log.error({ err: error }, 'store write failed; pending readings are not acknowledged, retrying');
      else log.info('store writable again');
    },
    onPoison: (entry, error) => {
      ctx.metrics.handlerErrors.inc({ component: 'store' });
      log.error({ err: error, kind: entry.kind }, 'row refused by the store');
    },
    onRefused: (entry) => ctx.metrics.queueOverflow.inc({ queue: 'store' }, entry.rows),
    onDepth: (rows) => ctx.metrics.queueDepth.set({ queue: 'store' }, rows),
  });

  /** The readings of a committed entry that its transaction stored (not those whose key was taken). */
  function storedOf(entry: Entry): readonly Reading[] {
    if (entry.kind !== 'readings') return [];
    const found = duplicatesOf.get(entry);
    if (!found) return entry.readings;
    const taken = new Set(found.duplicates.map((d) => d.reading));
    return entry.readings.filter((r) => !taken.has(r));
  }

  /** Counts what a commit absorbed (not readings stored) and announces its dead letters. */
  function committedDuplicates(duplicates: readonly Duplicate[], letters: readonly DeadLetter[], byStage: Map<string, number>): void {
    for (const d of duplicates) {
      byStage.set(d.reading.stage, (byStage.get(d.reading.stage) ?? 1) - 1);
      duplicateReadings.inc({ kind: d.conflicting ? 'conflicting' : 'exact' });
    }
    for (const letter of letters) {
      ctx.metrics.deadLetters.inc({ reason: letter.reason });
      for (const listener of deadLetterListeners) {
        try {
          listener(letter);
        } catch (error) {
          ctx.metrics.handlerErrors.inc({ component: 'store' });
          log.error({ err: error }, 'dead-letter listener failed');
        }
      }
    }
  }

  function walPath(): string {
    return `${config.path}-wal`;
  }
  function fileBytes(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }

  let checkpointer: Checkpointer | undefined;
  /** The worker does every checkpoint (none runs inside a group commit). */
  let checkpointsOffThread = false;
  /** WAL checkpoints on a worker thread; SQLite's automatic one (inside a commit) only if that fails. */
  function startCheckpointer(handle: Database.Database): void {
    const restore = (): void => {
      checkpointsOffThread = false;
      try {
        if (handle.open) handle.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      } catch (error) {
        log.error({ err: error }, 'could not turn the automatic checkpoint back on');
      }
    };
    try {
      checkpointer = new Checkpointer(config.path, CHECKPOINT_EVERY_MS, log, restore, walAllowance(config.maxBytes));
      checkpointer.start();
      handle.pragma('wal_autocheckpoint = 0');
      checkpointsOffThread = true;
    } catch (error) {
      log.warn({ err: error }, 'checkpoint worker not started; SQLite checkpoints inside the commits');
      checkpointer = undefined;
    }
  }

  function open(): void {
    mkdirSync(dirname(config.path), { recursive: true });
    const handle = new Database(config.path);
    // auto_vacuum only takes effect before the first table exists; it lets shedding return pages to the disk.
    handle.pragma('auto_vacuum = INCREMENTAL');
    handle.pragma('journal_mode = WAL');
    handle.pragma(`synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // The WAL's share of the disk budget (budget.ts); the checkpoint worker truncates it past that.
    handle.pragma(`journal_size_limit = ${walAllowance(config.maxBytes)}`);
    handle.pragma('foreign_keys = OFF');
    migrate(handle, ctx.clock.now(), ctx.site);
    startCheckpointer(handle);
    const insertReadings = createReadingWriter(handle);
    const insertDead = handle.prepare('INSERT INTO deadletters (topic, reason, payload, detail, ts) VALUES (?, ?, ?, ?, ?)');
    const duplicates = createDuplicateCheck(handle, ctx.site);
    const seqFloor = readingsSeqFloor(handle);
    /** Inserts the readings; a reading whose key is taken leaves the stored row and, if it differs, a dead letter. */
    const writeReadings = (entries: readonly (Entry & { kind: 'readings' })[]): void => {
      const groups = entries.map((e) => e.readings);
      seqFloor.before();
      const inserted = insertReadings(groups);
      seqFloor.after(inserted.added);
      const given = groups.reduce((n, g) => n + g.length, 0);
      if (inserted.added === given) {
        for (const e of entries) duplicatesOf.delete(e);
        return;
      }
      const found = duplicates.find(groups, inserted.added > 0 ? inserted.lastSeq - inserted.added : Infinity);
      const now = ctx.clock.now();
      entries.forEach((e, i) => {
        const list = found[i] ?? [];
        const letters = list.filter((d) => d.conflicting).map((d) => duplicates.deadLetter(d, now));
        for (const d of letters) insertDead.run(d.topic, d.reason, d.payload, d.detail ?? null, d.ts);
        if (list.length > 0) duplicatesOf.set(e, { duplicates: list, letters });
        else duplicatesOf.delete(e);
      });
    };
    const insertDerived = new Map<string, Database.Statement>();
    for (const spec of Object.values(TABLE_SPECS)) {
      if (spec.name === 'readings') continue;
      const cols = spec.columns.map((col) => `"${col.column}"`).join(', ');
      insertDerived.set(spec.name, handle.prepare(`INSERT OR IGNORE INTO ${spec.name} (${cols}) VALUES (${spec.columns.map(() => '?').join(', ')})`));
    }
    const transaction = handle.transaction((batch: readonly Entry[]) => {
      const readings: (Entry & { kind: 'readings' })[] = [];
      for (const e of batch) {
        if (e.kind === 'readings') {
          if (e.readings.length > 0) readings.push(e);
          for (const d of e.deadLetters) insertDead.run(d.topic, d.reason, d.payload, d.detail ?? null, d.ts);
        } else if (e.kind === 'deadletter') {
          const d = e.deadLetter;
          insertDead.run(d.topic, d.reason, d.payload, d.detail ?? null, d.ts);
        } else if (e.kind === 'state') {
          writeState(e.key, e.value);
        } else {
          const stmt = insertDerived.get(e.table);
          const spec = TABLE_SPECS[e.table];
          for (const row of e.rows_) stmt?.run(...toSqlValues(spec, row as TableRows[typeof e.table]));
        }
      }
      if (readings.length > 0) writeReadings(readings);
    });
    // BEGIN IMMEDIATE: the write lock is taken (waiting out a truncating checkpoint through busy_timeout)
    // before the first read; a read transaction upgraded to a write would fail at once instead.
    // Every other write (state before start and while stopping, shedding) keeps the configured mode and syncs in place.
    writeRows = createGroupCommit(handle, (batch: readonly Entry[]) => transaction.immediate(batch), walSync ? 'FULL' : 'NORMAL', () => checkpointsOffThread);
    const loaded = new Map<string, unknown>();
    for (const row of handle.prepare('SELECT key, value FROM state').all() as { key: string; value: string }[]) {
      loaded.set(row.key, JSON.parse(row.value));
    }
    // Values set before start win over the stored ones.
    for (const [k, v] of state) loaded.set(k, v);
    db = handle;
    reader = createReader(handle, ctx.site);
    for (const [k, v] of state) writeState(k, v);
    state = loaded;
  }

  /**
   * A store from before schema version 4 (AUTOINCREMENT) may have deleted its newest readings: their seqs
   * were served, and sqlite_sequence still holds the highest. Until a reading is stored above it, each
   * commit first stores a placeholder at that seq (removed in the same transaction, so no reader sees it),
   * so that the new readings take the seqs after it.
   */
  function readingsSeqFloor(handle: Database.Database): { before(): void; after(added: number): void } {
    const floor = (handle.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").pluck().get() as number | undefined) ?? 0;
    const newest = (handle.prepare('SELECT MAX(seq) FROM readings').pluck().get() as number | null) ?? 0;
    const forget = (): void => void handle.prepare("DELETE FROM sqlite_sequence WHERE name = 'readings'").run();
    const idle = { before: () => undefined, after: () => undefined };
    if (floor === 0) return idle;
    if (newest >= floor) {
      forget();
      return idle;
    }
    const place = handle.prepare("INSERT INTO readings (seq, stage, signal, ts, value, quality, received_at) VALUES (?, '', '', -1, 0, '', 0)");
    const unplace = handle.prepare('DELETE FROM readings WHERE seq = ?');
    const highest = handle.prepare('SELECT MAX(seq) FROM readings').pluck();
    let pending = true;
    let placed = false;
    return {
      before: () => {
        // Looked at again in every commit until one is durable: a commit rolled back leaves the floor.
        if (!pending) return;
        if (((highest.get() as number | null) ?? 0) >= floor) {
          pending = false;
          return;
        }
        place.run(floor);
        placed = true;
      },
      after: (added) => {
        if (!placed) return;
        placed = false;
        unplace.run(floor);
        if (added > 0) forget();
      },
    };
  }

  let stateStatement: { db: Database.Database; stmt: Database.Statement } | undefined;
  function writeState(key: string, value: unknown): void {
    if (!db) return;
    if (stateStatement?.db !== db) {
      const sql = 'INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at';
      stateStatement = { db, stmt: db.prepare(sql) };
    }
    stateStatement.stmt.run(key, JSON.stringify(value), ctx.clock.now());
  }

  function need(): { db: Database.Database; reader: Reader } {
    if (!db || !reader) throw new EdgeError('STORE_CLOSED', 'store is not open');
    return { db, reader };
  }

  function getCursor(target: string, table: HistoryTable): SyncCursor {
    const row = need().db.prepare('SELECT seq, caught_up_at FROM sync_cursors WHERE target = ? AND tbl = ?').get(target, table) as
      | { seq: number; caught_up_at: number | null }
      | undefined;
    return { seq: row?.seq ?? 0, caughtUpAt: row?.caught_up_at ?? undefined };
  }

  function syncedUpTo(table: HistoryTable): number {
    return ctx.syncEnabled ? getCursor(CENTRAL_TARGET, table).seq : 0;
  }

  /**
   * Returns freed pages to the file system and empties the WAL. A checkpoint the worker runs at that
   * moment, or a reader in another process, makes SQLite refuse this one: it is tried again for up to
   * COMPACT_TRIES ms, as the worker's checkpoints take a few; a reader's may take longer.
   */
  function compact(): void {
    const handle = need().db;
    handle.pragma('incremental_vacuum');
    // No busy handler here: a reader in another process would hold the event loop for busy_timeout.
    handle.pragma('busy_timeout = 0');
    try {
      for (let attempt = 0; attempt < COMPACT_TRIES; attempt += 1) {
        const [result] = handle.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
        if (!result || result.busy === 0) return;
        Atomics.wait(pause, 0, 0, 1);
      }
    } finally {
      handle.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    log.warn('WAL not truncated: a checkpoint or a reader kept it busy; the checkpoint worker truncates it later');
  }

  /** Retention (at most hourly) and the disk budget; shedding notifies the listeners. */
  function checkBudget(): SheddingInfo | undefined {
    const handle = need().db;
    const now = ctx.clock.now();
    if (now - lastRetention >= 3_600_000) {
      lastRetention = now;
      const aged = applyRetention(handle, now, config.retentionDays, syncedUpTo, ctx.syncEnabled ?? false);
      for (const s of aged) shedRows.inc({ table: s.table, reason: 'retention' }, s.rows);
      if (aged.length > 0) {
        compact();
        log.info({ aged }, 'retention removed old rows');
      }
    }
    const info = shedToBudget({ db: handle, maxBytes: config.maxBytes, syncedUpTo, fileBytes: sizeBytes, compact, now });
    sizeGauge.set(sizeBytes());
    if (!info) {
      if (underBudgetListeners.size > 0) underBudget(handle, now);
      return undefined;
    }
    for (const s of info.shed) shedRows.inc({ table: s.table, reason: 'budget' }, s.rows);
    log.warn(
      { shed: info.shed, usedBytesBefore: info.usedBytesBefore, usedBytesAfter: info.usedBytesAfter, dataBudgetBytes: info.dataBudgetBytes, fileBytesAfter: info.fileBytesAfter, exhausted: info.exhausted },
      'disk budget reached: shedding',
    );
    for (const listener of sheddingListeners) {
      try {
        listener(info);
      } catch (error) {
        ctx.metrics.handlerErrors.inc({ component: 'store' });
        log.error({ err: error }, 'shedding listener failed');
      }
    }
    return info;
  }

  /** Tells the listeners when the data are back under the budget (CLEAR_WATER). */
  function underBudget(handle: Database.Database, now: number): void {
    const info: UnderBudgetInfo = { ts: now, maxBytes: config.maxBytes, dataBudgetBytes: dataBudget(config.maxBytes), usedBytes: dataBytes(handle) };
    if (info.usedBytes >= CLEAR_WATER * info.dataBudgetBytes) return;
    for (const listener of underBudgetListeners) {
      try {
        listener(info);
      } catch (error) {
        ctx.metrics.handlerErrors.inc({ component: 'store' });
        log.error({ err: error }, 'under-budget listener failed');
      }
    }
  }

  /** Database, WAL and shared-memory files on disk: what storage.maxBytes bounds. */
  function sizeBytes(): number {
    return fileBytes(config.path) + fileBytes(walPath()) + fileBytes(`${config.path}-shm`);
  }

  const store = {
    name: 'store',

    async start(signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw new EdgeError('START_CANCELLED', 'store start cancelled');
      if (db) return;
      open();
      queue.open();
      budgetTimer = ctx.clock.setInterval(() => {
        try {
          checkBudget();
        } catch (error) {
          log.error({ err: error }, 'disk budget check failed');
        }
      }, config.budgetCheckMs);
      await Promise.resolve();
    },

    stop(): Promise<void> {
      stopping ??= (async () => {
        budgetTimer?.clear();
        queue.close();
        if (db) {
          queue.drain();
          await walSync?.close();
          await checkpointer?.close();
          queue.rejectAll(new EdgeError('STORE_CLOSED', 'store stopped before the rows were committed'));
          try {
            db.pragma('wal_checkpoint(TRUNCATE)');
          } catch (error) {
            log.warn({ err: error }, 'final checkpoint failed');
          }
          db.close();
        } else {
          queue.rejectAll(new EdgeError('STORE_CLOSED', 'store stopped'));
        }
        db = undefined;
        reader = undefined;
        writeRows = undefined;
        await Promise.resolve();
      })();
      return stopping;
    },

    appendReadings(readings: readonly Reading[], deadLetters: readonly DeadLetter[] = []): Promise<readonly Reading[]> {
      if (stopping) return Promise.reject(new EdgeError('STORE_CLOSED', 'store is stopping'));
      const rows = readings.length + deadLetters.length;
      if (rows === 0) return Promise.resolve(readings);
      return new Promise<readonly Reading[]>((resolve, reject) => {
        const entry: Entry = { kind: 'readings', readings, deadLetters, rows, settle: { resolve: () => resolve(storedOf(entry)), reject } };
        queue.push(entry);
      });
    },

    appendDeadLetter(deadLetter: DeadLetter): void {
      if (stopping) return;
      queue.push({ kind: 'deadletter', deadLetter, rows: 1 });
    },

    insert<T extends Exclude<HistoryTable, 'readings'>>(table: T, rows: readonly TableRows[T][]): void {
      if (stopping || rows.length === 0) return;
      queue.push({ kind: 'derived', table, rows_: rows, rows: rows.length });
    },

    getState<T>(key: string): T | undefined {
      return state.get(key) as T | undefined;
    },

    /**
     * Kept in memory at once and written with the next group commit, in the same transaction as the rows
     * it goes with (a loop's memory with its setpoint row), so no window pays an fsync of its own.
     */
    setState(key: string, value: unknown): void {
      state.set(key, value);
      // Before start, while stopping or with the queue full (a failing disk), it is written in place.
      if (!db || stopping || !queue.push({ kind: 'state', key, value, rows: 1 })) writeState(key, value);
    },

    /** Commits everything queued now (tests, benchmarks, shutdown paths). */
    flush(): void {
      need();
      queue.drain();
    },

    writable(): boolean {
      return db !== undefined && !stopping && queue.healthy;
    },
    sizeBytes,
    pendingRows: () => queue.depth,
    checkBudget,
    /** Dead letters the store itself writes (conflicting duplicates), once committed. */
    onDeadLetter(listener: (deadLetter: DeadLetter) => void): () => void {
      deadLetterListeners.add(listener);
      return () => deadLetterListeners.delete(listener);
    },
    onShedding(listener: (info: SheddingInfo) => void): () => void {
      sheddingListeners.add(listener);
      return () => sheddingListeners.delete(listener);
    },
    /** Budget checks that shed nothing and found the data under CLEAR_WATER of their budget. */
    onUnderBudget(listener: (info: UnderBudgetInfo) => void): () => void {
      underBudgetListeners.add(listener);
      return () => underBudgetListeners.delete(listener);
    },

    history<T extends HistoryTable>(table: T, since: string | undefined, limit: number, filter?: HistoryFilter): HistoryPage<T> {
      return need().reader.history(table, since, limit, filter);
    },
    readAfter<T extends HistoryTable>(table: T, after: number, limit: number) {
      return need().reader.readAfter(table, after, limit);
    },
    readingStats(...args: Parameters<Reader['readingStats']>) {
      return need().reader.readingStats(...args);
    },
    maxSeq: (table: HistoryTable | 'deadletters') => need().reader.maxSeq(table),
    countAfter: (table: HistoryTable, after: number) => need().reader.countAfter(table, after),
    count: (table: HistoryTable | 'deadletters' | 'shed_log') => need().reader.count(table),
    getCursor,
    setCursor(target: string, table: HistoryTable, seq: number, caughtUpAt?: number): void {
      need()
        .db.prepare(
          `INSERT INTO sync_cursors (target, tbl, seq, caught_up_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(target, tbl) DO UPDATE SET seq = MAX(seq, excluded.seq),
             caught_up_at = COALESCE(excluded.caught_up_at, caught_up_at), updated_at = excluded.updated_at`,
        )
        .run(target, table, seq, caughtUpAt ?? null, ctx.clock.now());
    },
  } satisfies ReadingSink & TableWriter & StateStore & Component & Record<string, unknown>;
  return store;
}
