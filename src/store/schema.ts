import type Database from 'better-sqlite3';
import { readingTopic } from '../contract/topics.js';
import type { StageId } from '../contract/plant.js';
import { TABLE_SPECS, columnsAt, type ColumnType, type TableSpec } from './tables.js';

/**
 * SQLite schema, applied as numbered migrations recorded in `schema_version`. Every table has
 * `seq INTEGER PRIMARY KEY AUTOINCREMENT`: AUTOINCREMENT never reuses a rowid after deletes (retention,
 * shedding), so a cursor `seq > N` stays stable forever. Readings, since version 4, have
 * `seq INTEGER PRIMARY KEY` alone: a new reading takes the highest seq plus one, and retention and
 * shedding never delete the reading holding the highest seq (budget.ts), so no seq comes back either;
 * without AUTOINCREMENT a commit of one reading writes two pages instead of three (no sqlite_sequence).
 */
const SQLITE_TYPES: Record<ColumnType, string> = {
  text: 'TEXT NOT NULL',
  nullable_text: 'TEXT',
  json: 'TEXT NOT NULL',
  real: 'REAL NOT NULL',
  int: 'INTEGER NOT NULL',
  bool: 'INTEGER NOT NULL',
  nullable_int: 'INTEGER',
  nullable_real: 'REAL',
  nullable_json: 'TEXT',
};

function derivedTableDdl(spec: TableSpec, version: number): string[] {
  const cols = columnsAt(spec, version).map((col) => `"${col.column}" ${SQLITE_TYPES[col.type]}`);
  const extra = spec.name === 'readings' ? [', received_at INTEGER NOT NULL'] : [];
  return [
    `CREATE TABLE IF NOT EXISTS ${spec.name} (seq INTEGER PRIMARY KEY AUTOINCREMENT, ${cols.join(', ')}${extra.join('')})`,
    `CREATE UNIQUE INDEX IF NOT EXISTS ${spec.name}_key ON ${spec.name} (${spec.key.map((k) => `"${k}"`).join(', ')})`,
    // Readings get no time index: it would cost a quarter of the ingest rate; their key index serves
    // per-signal time ranges and retention walks them in arrival (seq) order.
    ...(spec.name === 'readings' ? [] : [`CREATE INDEX IF NOT EXISTS ${spec.name}_time ON ${spec.name} ("${spec.timeColumn}")`]),
  ];
}

export interface MigrationContext {
  readonly now: number;
  readonly site: string;
}

export interface Migration {
  readonly version: number;
  readonly statements: readonly string[];
  /** Data changes that SQL alone does not express, run after the statements in the same transaction. */
  readonly run?: (db: Database.Database, ctx: MigrationContext) => void;
}

/**
 * Version 3: event time is whole milliseconds from ingest to the central table. Readings stored before
 * with a fraction move to the whole millisecond below; one whose key is then taken is a duplicate: gone
 * if it holds the same value, else moved to the dead letters as `conflicting_duplicate` (the row that
 * arrived first keeps the key).
 */
function wholeMillisecondReadings(db: Database.Database, ctx: MigrationContext): void {
  const fractional = db.prepare("SELECT seq, stage, signal, ts, value, quality FROM readings WHERE typeof(ts) = 'real' ORDER BY seq").all() as {
    seq: number;
    stage: StageId;
    signal: string;
    ts: number;
    value: number;
    quality: string;
  }[];
  const holder = db.prepare('SELECT seq, value, quality FROM readings WHERE stage = ? AND signal = ? AND ts = ?');
  const move = db.prepare('UPDATE readings SET ts = ? WHERE seq = ?');
  const drop = db.prepare('DELETE FROM readings WHERE seq = ?');
  const dead = db.prepare("INSERT INTO deadletters (topic, reason, payload, detail, ts) VALUES (?, 'conflicting_duplicate', ?, ?, ?)");
  for (const r of fractional) {
    const ts = Math.floor(r.ts);
    const taken = holder.get(r.stage, r.signal, ts) as { seq: number; value: number; quality: string } | undefined;
    if (!taken) {
      move.run(ts, r.seq);
      continue;
    }
    drop.run(r.seq);
    if (taken.value === r.value && taken.quality === r.quality) continue;
    const detail = `stored at ts ${r.ts} (seq ${r.seq}) before timestamps became whole milliseconds; key (${r.stage}, ${r.signal}, ${ts}) holds ${taken.value} (${taken.quality}, seq ${taken.seq}), kept`;
    dead.run(readingTopic(ctx.site, r.stage, r.signal), JSON.stringify({ value: r.value, ts: r.ts, quality: r.quality }), detail, ctx.now);
  }
}

/**
 * Version 4: readings' seq without AUTOINCREMENT. The table's pages are the same with or without it (seq
 * is the rowid either way), so only its CREATE statement changes, in place (writable_schema, as SQLite's
 * documentation allows for changes that leave the stored content alone): no copy of the table, which may
 * hold most of storage.maxBytes.
 */
function readingsWithoutAutoincrement(db: Database.Database): void {
  const row = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'readings'").get() as { sql: string } | undefined;
  if (!row || !/ AUTOINCREMENT/i.test(row.sql)) return;
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'readings'").run(row.sql.replace(/ AUTOINCREMENT/i, ''));
    // The new schema is read again by every connection, this one included.
    db.pragma(`schema_version = ${version + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
  // sqlite_sequence keeps the readings' row: the highest seq ever given, which the store's first commit
  // steps over when newer readings were deleted meanwhile (store.ts, `seqFloor`).
}

/**
 * Version 7: an anomaly row without a verdict has no score. Dropping a NOT NULL constraint leaves the
 * stored content valid, so, as for version 4, only the table's CREATE statement changes, in place.
 */
function nullableAnomalyScore(db: Database.Database): void {
  const row = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'anomalies'").get() as { sql: string } | undefined;
  const notNull = /"score" REAL NOT NULL/;
  if (!row || !notNull.test(row.sql)) return;
  const version = db.pragma('schema_version', { simple: true }) as number;
  db.unsafeMode(true);
  try {
    db.pragma('writable_schema = ON');
    db.prepare("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'anomalies'").run(row.sql.replace(notNull, '"score" REAL'));
    db.pragma(`schema_version = ${version + 1}`);
    db.pragma('writable_schema = OFF');
  } finally {
    db.unsafeMode(false);
  }
}

/** What a version adds to the synced tables: new tables whole, new columns (all nullable) by ALTER TABLE. */
function specChanges(version: number): string[] {
  return Object.values(TABLE_SPECS).flatMap((spec) =>
    (spec.since ?? 1) === version
      ? derivedTableDdl(spec, version)
      : (spec.since ?? 1) < version
        ? spec.columns.filter((col) => col.since === version).map((col) => `ALTER TABLE ${spec.name} ADD COLUMN "${col.column}" ${SQLITE_TYPES[col.type]}`)
        : [],
  );
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      ...specChanges(1),
      `CREATE TABLE IF NOT EXISTS deadletters (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, reason TEXT NOT NULL,
        payload TEXT NOT NULL, detail TEXT, ts INTEGER NOT NULL)`,
      'CREATE INDEX IF NOT EXISTS deadletters_time ON deadletters (ts)',
      'CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)',
      `CREATE TABLE IF NOT EXISTS sync_cursors (target TEXT NOT NULL, tbl TEXT NOT NULL, seq INTEGER NOT NULL,
        caught_up_at INTEGER, updated_at INTEGER NOT NULL, PRIMARY KEY (target, tbl))`,
      `CREATE TABLE IF NOT EXISTS shed_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, tbl TEXT NOT NULL,
        reason TEXT NOT NULL, synced INTEGER NOT NULL, rows INTEGER NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL)`,
    ],
  },
  // Operators' comments, ack times and verdicts on alarm events; every HMI command in operator_actions.
  { version: 2, statements: specChanges(2) },
  // Event time in whole milliseconds (docs/storage.md).
  { version: 3, statements: [], run: wholeMillisecondReadings },
  // Readings' seq without AUTOINCREMENT (one page less per commit).
  { version: 4, statements: [], run: readingsWithoutAutoincrement },
  // Model lifecycle events: activations, rollbacks, retraining triggers, gate results.
  { version: 5, statements: specChanges(5) },
  // Predictions keep the target's value when they were made (persistence), beside their horizon.
  { version: 6, statements: specChanges(6) },
  // Anomalies keep their verdict (scored, partial, none) and missing inputs; a window without a verdict has no score.
  { version: 7, statements: specChanges(7), run: nullableAnomalyScore },
  // What candidates in shadow computed on the live windows (never published).
  { version: 8, statements: specChanges(8) },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Applies the missing migrations, each in its own transaction. Returns the versions applied. */
export function migrate(db: Database.Database, now: number, site = ''): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  const current = row.v ?? 0;
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      for (const sql of migration.statements) db.exec(sql);
      migration.run?.(db, { now, site });
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(migration.version, now);
    })();
    applied.push(migration.version);
  }
  return applied;
}

/** The DDL as applied, for documentation and the report. */
export function schemaSql(): string {
  return ['CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)', ...MIGRATIONS.flatMap((m) => m.statements)]
    .map((s) => `${s.replace(/\s+/g, ' ')};`)
    .join('\n');
}
