import type { HistoryTable } from '../contract/rows.js';
import type { SiteRow } from '../store/reader.js';

/**
 * The central side of store-and-forward. `write` is idempotent (natural keys: a re-sent batch changes
 * nothing) and resolves only once the rows are committed, so the caller may then move its cursor.
 * The MariaDB sink and the in-memory sink share one contract test suite.
 */
export interface CentralSink {
  readonly name: string;
  /** Connects and creates or migrates the central tables (idempotent). */
  connect(): Promise<void>;
  write<T extends HistoryTable>(table: T, rows: readonly SiteRow<T>[]): Promise<void>;
  /** Every row of one site, in natural-key order (verification, tests, the benchmark). */
  readBack<T extends HistoryTable>(table: T, site: string): Promise<SiteRow<T>[]>;
  close(): Promise<void>;
}

/** Natural-key string of a row (site included), for comparisons and the in-memory sink. */
export function naturalKey(table: HistoryTable, row: Readonly<Record<string, unknown>>, keyFields: readonly string[]): string {
  return JSON.stringify([table, row['site'], ...keyFields.map((f) => row[f])]);
}
