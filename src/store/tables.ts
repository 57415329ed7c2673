import type { HistoryTable, TableRows } from '../contract/rows.js';

/**
 * One description per synced table, shared by the SQLite store, the MariaDB sink and the HTTP history,
 * so the three never disagree on columns or natural keys.
 */
export type ColumnType = 'text' | 'real' | 'int' | 'bool' | 'json' | 'nullable_text' | 'nullable_int' | 'nullable_real' | 'nullable_json';

export interface ColumnSpec {
  /** Field name in the row object (contract/rows.ts). */
  readonly field: string;
  /** Column name in SQL (snake_case). */
  readonly column: string;
  readonly type: ColumnType;
  /** Longest value for key columns (MariaDB VARCHAR length). */
  readonly maxLength?: number;
  /** Schema version that added the column (1 when absent): later ones arrive by ALTER TABLE. */
  readonly since?: number;
}

export interface TableSpec {
  readonly name: HistoryTable;
  readonly columns: readonly ColumnSpec[];
  /** Natural unique key, by column name (the site column is added centrally). */
  readonly key: readonly string[];
  /** Column that holds the row's event time (retention, lag, shedding). */
  readonly timeColumn: string;
  /** Schema version that added the table (1 when absent). */
  readonly since?: number;
}

const c = (field: string, type: ColumnType, column = toSnake(field), maxLength?: number): ColumnSpec =>
  maxLength === undefined ? { field, column, type } : { field, column, type, maxLength };
const added = (since: number, col: ColumnSpec): ColumnSpec => ({ ...col, since });

function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}

export const TABLE_SPECS: { readonly [T in HistoryTable]: TableSpec } = {
  readings: {
    name: 'readings',
    columns: [c('stage', 'text', 'stage', 32), c('signal', 'text', 'signal', 64), c('ts', 'int'), c('value', 'real'), c('quality', 'text', 'quality', 16)],
    key: ['stage', 'signal', 'ts'],
    timeColumn: 'ts',
  },
  windows: {
    name: 'windows',
    columns: [c('stage', 'text', 'stage', 32), c('windowStart', 'int'), c('windowEnd', 'int'), c('quality', 'real'), c('features', 'json')],
    key: ['stage', 'window_end'],
    timeColumn: 'window_end',
  },
  indicators: {
    name: 'indicators',
    columns: [c('stage', 'text', 'stage', 32), c('name', 'text', 'name', 64), c('ts', 'int'), c('value', 'real'), c('unit', 'text', 'unit', 32)],
    key: ['stage', 'name', 'ts'],
    timeColumn: 'ts',
  },
  predictions: {
    name: 'predictions',
    columns: [
      c('stage', 'text', 'stage', 32),
      c('signal', 'text', 'signal', 64),
      c('ts', 'int'),
      c('horizonMin', 'int'),
      c('value', 'real'),
      c('unit', 'text', 'unit', 32),
      c('model', 'text', 'model', 128),
      // The target's window mean when the prediction was made: what persistence forecasts, for live skill.
      added(6, c('persistence', 'nullable_real')),
    ],
    key: ['stage', 'signal', 'ts', 'horizon_min'],
    timeColumn: 'ts',
  },
  anomalies: {
    name: 'anomalies',
    columns: [
      c('stage', 'text', 'stage', 32),
      c('ts', 'int'),
      // Nullable since version 7 (a window without a verdict has no score), in place (schema.ts).
      c('score', 'nullable_real'),
      c('threshold', 'real'),
      c('isAnomaly', 'bool'),
      c('contributors', 'json'),
      c('model', 'text', 'model', 128),
      // Which inputs the window lacked and whether it was scored in full, in part or not at all.
      added(7, c('verdict', 'nullable_text', 'verdict', 16)),
      added(7, c('missing', 'nullable_json')),
    ],
    key: ['stage', 'ts', 'model'],
    timeColumn: 'ts',
  },
  alarm_events: {
    name: 'alarm_events',
    columns: [
      c('alarmId', 'text', 'alarm_id', 128),
      c('ts', 'int'),
      c('state', 'text', 'state', 16),
      c('severity', 'text', 'severity', 16),
      c('stage', 'text', 'stage', 32),
      c('signal', 'nullable_text', 'signal', 64),
      c('message', 'json'),
      c('by', 'nullable_text', 'by', 128),
      added(2, c('comment', 'nullable_text', 'comment', 1024)),
      added(2, c('ackedAt', 'nullable_int')),
      added(2, c('verdict', 'nullable_text', 'verdict', 16)),
    ],
    key: ['alarm_id', 'ts', 'state'],
    timeColumn: 'ts',
  },
  setpoints: {
    name: 'setpoints',
    columns: [
      c('loop', 'text', 'loop', 32),
      c('stage', 'text', 'stage', 32),
      c('ts', 'int'),
      c('value', 'real'),
      c('unit', 'text', 'unit', 32),
      c('mode', 'text', 'mode', 16),
      c('reason', 'json'),
      c('model', 'nullable_text', 'model', 128),
      c('validUntil', 'int'),
      c('inputs', 'json'),
    ],
    key: ['loop', 'ts'],
    timeColumn: 'ts',
  },
  operator_actions: {
    name: 'operator_actions',
    columns: [
      c('ts', 'int'),
      c('by', 'text', 'by', 128),
      c('action', 'text', 'action', 32),
      c('target', 'text', 'target', 128),
      c('source', 'text', 'source', 16),
      c('detail', 'json'),
    ],
    key: ['ts', 'action', 'target', 'by'],
    timeColumn: 'ts',
    since: 2,
  },
  model_events: {
    name: 'model_events',
    columns: [
      c('ts', 'int'),
      c('model', 'text', 'model', 128),
      c('event', 'text', 'event', 16),
      c('by', 'text', 'by', 32),
      c('previous', 'nullable_text', 'previous', 64),
      c('reason', 'json'),
      c('detail', 'json'),
    ],
    key: ['ts', 'model', 'event'],
    timeColumn: 'ts',
    since: 5,
  },
  shadow_outputs: {
    name: 'shadow_outputs',
    columns: [
      c('model', 'text', 'model', 128),
      c('stage', 'text', 'stage', 32),
      c('signal', 'text', 'signal', 64),
      c('ts', 'int'),
      c('horizonMin', 'int'),
      c('value', 'real'),
      c('unit', 'text', 'unit', 32),
      c('persistence', 'nullable_real'),
      c('threshold', 'nullable_real'),
      c('isAnomaly', 'bool'),
    ],
    key: ['model', 'stage', 'signal', 'ts', 'horizon_min'],
    timeColumn: 'ts',
    since: 8,
  },
};

/** The columns a table had at a schema version. */
export function columnsAt(spec: TableSpec, version: number): readonly ColumnSpec[] {
  return spec.columns.filter((col) => (col.since ?? 1) <= version);
}

export type SqlValue = string | number | null;

/** Row object -> positional SQL values, in column order. */
export function toSqlValues<T extends HistoryTable>(spec: TableSpec, row: TableRows[T]): SqlValue[] {
  const record = row as unknown as Record<string, unknown>;
  return spec.columns.map((col) => {
    const v = record[col.field];
    if (col.type === 'bool') return v ? 1 : 0;
    if (v === undefined || v === null) return null;
    return v as string | number;
  });
}

/** SQL row (keyed by column name) -> row object of contract/rows.ts. */
export function fromSqlRow(spec: TableSpec, sqlRow: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const col of spec.columns) {
    const v = sqlRow[col.column];
    if (col.type === 'bool') out[col.field] = v === 1 || v === 1n || v === true;
    else if (col.type === 'int' || col.type === 'nullable_int') out[col.field] = typeof v === 'bigint' ? Number(v) : (v ?? null);
    else out[col.field] = v ?? null;
  }
  return out;
}
