import { randomBytes } from 'node:crypto';
import mariadb from 'mariadb';
import { syncSchema, type SyncConfig } from '../../src/config/sections/sync.js';
import { HISTORY_TABLES, type HistoryTable } from '../../src/contract/rows.js';
import type { CentralSink } from '../../src/sync/central.js';
import { keyFields } from '../../src/sync/memory-sink.js';
import type { SiteRow } from '../../src/store/reader.js';

export const MARIADB_URL = process.env['WWTP_EDGE_TEST_MARIADB'] ?? 'mariadb://root@127.0.0.1:3306/test';

/** A fresh table prefix per test file, so parallel files never share central tables. */
export function uniquePrefix(tag: string): string {
  return `t_${tag}_${process.pid}_${randomBytes(3).toString('hex')}_`;
}

export function syncConfig(prefix: string, over: Partial<SyncConfig> = {}, url = MARIADB_URL): SyncConfig {
  const base = syncSchema.parse({ enabled: true, mariadb: { url, tablePrefix: prefix, connectTimeoutMs: 1_000 } });
  return { ...base, backoffMinMs: 20, backoffMaxMs: 200, intervalMs: 50, ...over, mariadb: { ...base.mariadb, ...(over.mariadb ?? {}) } };
}

/** Whether MariaDB answers; with CI=true tests run (and fail) regardless. */
export async function mariadbReachable(): Promise<boolean> {
  try {
    const c = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectTimeout: 1_000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}
export const requireMariadb = process.env['CI'] === 'true';

export async function dropPrefix(prefix: string): Promise<void> {
  const c = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
  try {
    const rows = (await c.query('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?', [
      `${prefix.replace(/_/g, '\\_')}%`,
    ])) as { t: string }[];
    for (const r of rows) await c.query(`DROP TABLE IF EXISTS \`${r.t}\``);
  } finally {
    await c.end();
  }
}

/** Canonical content of a table: sorted natural keys -> row JSON, for exact equality checks. */
export function canonical<T extends HistoryTable>(table: T, rows: readonly SiteRow<T>[]): string[] {
  const fields = keyFields(table);
  return rows
    .map((r) => {
      const rec = r as unknown as Record<string, unknown>;
      const sorted = Object.fromEntries(Object.keys(rec).sort().map((k) => [k, rec[k]]));
      return `${JSON.stringify(fields.map((f) => rec[f]))}|${JSON.stringify(sorted)}`;
    })
    .sort();
}

/** Row counts and a checksum per table, central side. */
export async function centralDigest(sink: CentralSink, site: string, tables: readonly HistoryTable[] = HISTORY_TABLES): Promise<Record<string, { rows: number; checksum: string }>> {
  const out: Record<string, { rows: number; checksum: string }> = {};
  const { createHash } = await import('node:crypto');
  for (const t of tables) {
    const rows = canonical(t, await sink.readBack(t, site));
    out[t] = { rows: rows.length, checksum: createHash('sha256').update(rows.join('\n')).digest('hex') };
  }
  return out;
}

export async function localDigest(
  store: { history<T extends HistoryTable>(t: T, since: string | undefined, limit: number): { rows: SiteRow<T>[]; next: string } },
  tables: readonly HistoryTable[] = HISTORY_TABLES,
): Promise<Record<string, { rows: number; checksum: string }>> {
  const { createHash } = await import('node:crypto');
  const out: Record<string, { rows: number; checksum: string }> = {};
  for (const t of tables) {
    const all: SiteRow<typeof t>[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = store.history(t, cursor, 10_000);
      if (page.rows.length === 0) break;
      all.push(...page.rows);
      cursor = page.next;
    }
    const rows = canonical(t, all);
    out[t] = { rows: rows.length, checksum: createHash('sha256').update(rows.join('\n')).digest('hex') };
  }
  return out;
}
