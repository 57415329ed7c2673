import type Database from 'better-sqlite3';
import { TABLE_SPECS, type ColumnType, type TableSpec } from './tables.js';

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
};

function derivedTableDdl(spec: TableSpec): string[] {
  const cols = spec.columns.map((col) => `"${col.column}" ${SQLITE_TYPES[col.type]}`);
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

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      ...Object.values(TABLE_SPECS).flatMap(derivedTableDdl),
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
