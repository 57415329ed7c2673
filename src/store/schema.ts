import type Database from 'better-sqlite3';
import { TABLE_SPECS, columnsAt, type ColumnType, type TableSpec } from './tables.js';

/**
 * SQLite schema, applied as numbered migrations recorded in `schema_version`. Every table has
 * `seq INTEGER PRIMARY KEY AUTOINCREMENT`: AUTOINCREMENT never reuses a rowid after deletes (retention,
 * shedding), so a cursor `seq > N` stays stable forever.
 */
const SQLITE_TYPES: Record<ColumnType, string> = {
  text: 'TEXT NOT NULL',
  nullable_text: 'TEXT',
  json: 'TEXT NOT NULL',
  real: 'REAL NOT NULL',
  int: 'INTEGER NOT NULL',
  bool: 'INTEGER NOT NULL',
  nullable_int: 'INTEGER',
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

export interface Migration {
  readonly version: number;
  readonly statements: readonly string[];
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
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Applies the missing migrations, each in its own transaction. Returns the versions applied. */
export function migrate(db: Database.Database, now: number): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  const current = row.v ?? 0;
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      for (const sql of migration.statements) db.exec(sql);
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
