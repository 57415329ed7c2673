import type { HistoryTable } from '../contract/rows.js';
import { TABLE_SPECS, columnsAt, type ColumnType } from '../store/tables.js';

/**
 * Central MariaDB schema (PRODUCT 4.4): one table per synced table, every row with `site`, the natural
 * key (site first) as primary key so a re-sent row hits it. DDL is idempotent; versions are recorded in
 * `wwtp_schema_version`.
 */
const q = (name: string): string => `\`${name}\``;

function mariaType(type: ColumnType, maxLength: number | undefined): string {
  switch (type) {
    case 'text':
      return `VARCHAR(${maxLength ?? 255}) NOT NULL`;
    case 'nullable_text':
      return `VARCHAR(${maxLength ?? 255}) NULL`;
    case 'json':
      return 'MEDIUMTEXT NOT NULL';
    case 'real':
      return 'DOUBLE NOT NULL';
    case 'int':
      return 'BIGINT NOT NULL';
    case 'bool':
      return 'TINYINT(1) NOT NULL';
    case 'nullable_int':
      return 'BIGINT NULL';
    case 'nullable_real':
      return 'DOUBLE NULL';
    case 'nullable_json':
      return 'MEDIUMTEXT NULL';
  }
}

export function tableName(prefix: string, table: string): string {
  return q(`${prefix}${table}`);
}

export function createTableSql(prefix: string, table: HistoryTable, version = Number.MAX_SAFE_INTEGER): string {
  const spec = TABLE_SPECS[table];
  const cols = [`${q('site')} VARCHAR(64) NOT NULL`, ...columnsAt(spec, version).map((c) => `${q(c.column)} ${mariaType(c.type, c.maxLength)}`)];
  const key = ['site', ...spec.key].map(q).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${tableName(prefix, table)} (${cols.join(', ')}, PRIMARY KEY (${key})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;
}

export interface CentralMigration {
  readonly version: number;
  statements(prefix: string): string[];
}

/** What a version adds: new tables whole, new (nullable) columns by ALTER TABLE ... IF NOT EXISTS. */
function specChanges(prefix: string, version: number): string[] {
  return Object.values(TABLE_SPECS).flatMap((spec) =>
    (spec.since ?? 1) === version
      ? [createTableSql(prefix, spec.name, version)]
      : (spec.since ?? 1) < version
        ? spec.columns
            .filter((c) => c.since === version)
            .map((c) => `ALTER TABLE ${tableName(prefix, spec.name)} ADD COLUMN IF NOT EXISTS ${q(c.column)} ${mariaType(c.type, c.maxLength)}`)
        : [],
  );
}

export const CENTRAL_MIGRATIONS: readonly CentralMigration[] = [
  { version: 1, statements: (prefix) => specChanges(prefix, 1) },
  // Operators' comments, ack times and verdicts on alarm events; the operator_actions table.
  { version: 2, statements: (prefix) => specChanges(prefix, 2) },
  // Model lifecycle events (SQLite schema version 5).
  { version: 3, statements: (prefix) => specChanges(prefix, 5) },
  // Predictions' persistence column (SQLite schema version 6).
  { version: 4, statements: (prefix) => specChanges(prefix, 6) },
  // Anomalies' verdict and missing inputs, and a nullable score (SQLite schema version 7).
  { version: 5, statements: (prefix) => [...specChanges(prefix, 7), `ALTER TABLE ${tableName(prefix, 'anomalies')} MODIFY ${q('score')} DOUBLE NULL`] },
  // Shadow outputs of candidates (SQLite schema version 8).
  { version: 6, statements: (prefix) => specChanges(prefix, 8) },
];

export function versionTableSql(prefix: string): string {
  return `CREATE TABLE IF NOT EXISTS ${tableName(prefix, 'wwtp_schema_version')} (version INT NOT NULL PRIMARY KEY,
    applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB`;
}

/** Idempotent insert: a duplicate natural key leaves the stored row as it was. */
export function insertSql(prefix: string, table: HistoryTable): string {
  const spec = TABLE_SPECS[table];
  const cols = ['site', ...spec.columns.map((c) => c.column)];
  return `INSERT INTO ${tableName(prefix, table)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
    ON DUPLICATE KEY UPDATE ${q('site')} = ${q('site')}`;
}

export function selectSiteSql(prefix: string, table: HistoryTable): string {
  const spec = TABLE_SPECS[table];
  const cols = ['site', ...spec.columns.map((c) => c.column)];
  return `SELECT ${cols.map(q).join(', ')} FROM ${tableName(prefix, table)} WHERE ${q('site')} = ? ORDER BY ${spec.key.map(q).join(', ')}`;
}
