import type { HistoryTable } from '../contract/rows.js';
import { EdgeError } from '../lib/lifecycle.js';
import type { SiteRow } from '../store/reader.js';
import { TABLE_SPECS } from '../store/tables.js';
import { naturalKey, type CentralSink } from './central.js';

/** Key fields (row field names) of each table, from its column names. */
export function keyFields(table: HistoryTable): string[] {
  const spec = TABLE_SPECS[table];
  return spec.key.map((column) => spec.columns.find((c) => c.column === column)?.field ?? column);
}

/** An in-memory central server: tests, dry runs. `reachable = false` simulates an outage. */
export function createMemorySink() {
  const tables = new Map<HistoryTable, Map<string, Record<string, unknown>>>();
  let connected = false;
  const sink = {
    name: 'memory',
    reachable: true,
    writes: 0,
    async connect(): Promise<void> {
      await Promise.resolve();
      if (!sink.reachable) throw new EdgeError('SYNC_UNREACHABLE', 'memory sink unreachable');
      connected = true;
    },
    async write<T extends HistoryTable>(table: T, rows: readonly SiteRow<T>[]): Promise<void> {
      await Promise.resolve();
      if (!sink.reachable || !connected) throw new EdgeError('SYNC_UNREACHABLE', 'memory sink unreachable');
      let t = tables.get(table);
      if (!t) tables.set(table, (t = new Map()));
      const fields = keyFields(table);
      for (const row of rows) {
        const key = naturalKey(table, row as unknown as Record<string, unknown>, fields);
        if (!t.has(key)) t.set(key, { ...row });
      }
      sink.writes++;
    },
    async readBack<T extends HistoryTable>(table: T, site: string): Promise<SiteRow<T>[]> {
      await Promise.resolve();
      const t = tables.get(table);
      if (!t) return [];
      return [...t.entries()]
        .filter(([, r]) => r['site'] === site)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, r]) => r as unknown as SiteRow<T>);
    },
    async close(): Promise<void> {
      await Promise.resolve();
      connected = false;
    },
  } satisfies CentralSink & Record<string, unknown>;
  return sink;
}
export type MemorySink = ReturnType<typeof createMemorySink>;
