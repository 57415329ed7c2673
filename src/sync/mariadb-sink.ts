import { readFileSync } from 'node:fs';
import mariadb, { type Connection, type ConnectionConfig } from 'mariadb';
import type { SyncConfig } from '../config/schema.js';
import type { HistoryTable } from '../contract/rows.js';
import { EdgeError } from '../lib/lifecycle.js';
import type { Logger } from '../lib/logger.js';
import type { SiteRow } from '../store/reader.js';
import { TABLE_SPECS, fromSqlRow, toSqlValues } from '../store/tables.js';
import type { CentralSink } from './central.js';
import { CENTRAL_MIGRATIONS, insertSql, selectSiteSql, tableName, versionTableSql } from './mariadb-schema.js';

type MariadbConfig = SyncConfig['mariadb'];

/** Connection options from `sync.mariadb`: the url, with user/password and TLS files taking precedence. */
export function connectionOptions(config: MariadbConfig): ConnectionConfig {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new EdgeError('SYNC_BAD_URL', 'sync.mariadb.url is not a valid URL', 2);
  }
  if (url.protocol !== 'mariadb:' && url.protocol !== 'mysql:') throw new EdgeError('SYNC_BAD_URL', `sync.mariadb.url: unsupported scheme ${url.protocol}`, 2);
  const sslParam = url.searchParams.get('ssl');
  const wantsTls = config.caFile !== undefined || config.certFile !== undefined || sslParam === 'true' || sslParam === '1';
  const ssl = wantsTls
    ? {
        rejectUnauthorized: config.rejectUnauthorized,
        ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}),
        ...(config.certFile ? { cert: readFileSync(config.certFile) } : {}),
        ...(config.keyFile ? { key: readFileSync(config.keyFile) } : {}),
      }
    : undefined;
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 3306,
    user: config.user ?? (decodeURIComponent(url.username) || 'root'),
    password: config.password ?? decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'wwtp',
    connectTimeout: config.connectTimeoutMs,
    socketTimeout: Math.max(30_000, config.connectTimeoutMs * 6),
    bigIntAsNumber: true,
    insertIdAsNumber: true,
    decimalAsNumber: true,
    ...(ssl ? { ssl } : {}),
  };
}

/**
 * The MariaDB central sink: one connection, re-opened after any error; each `write` is one transaction
 * with a bulk `batch()` of idempotent inserts.
 */
export function createMariadbSink(config: MariadbConfig, logger: Logger): CentralSink {
  const prefix = config.tablePrefix;
  const log = logger.child({ component: 'sync.mariadb' });
  let conn: Connection | undefined;
  let migrated = false;

  async function connection(): Promise<Connection> {
    if (conn?.isValid()) return conn;
    conn = undefined;
    const next = await mariadb.createConnection(connectionOptions(config));
    next.on('error', (error: Error) => {
      log.warn({ err: error }, 'central connection error');
      if (conn === next) conn = undefined;
    });
    conn = next;
    if (!migrated) {
      await migrate(next);
      migrated = true;
    }
    return next;
  }

  async function migrate(c: Connection): Promise<void> {
    await c.query(versionTableSql(prefix));
    const rows = (await c.query(`SELECT COALESCE(MAX(version), 0) AS v FROM ${tableName(prefix, 'wwtp_schema_version')}`)) as { v: number }[];
    const current = Number(rows[0]?.v ?? 0);
    for (const m of CENTRAL_MIGRATIONS) {
      if (m.version <= current) continue;
      // DDL commits implicitly in MariaDB; every statement is IF NOT EXISTS so a half-applied run repeats cleanly.
      for (const sql of m.statements(prefix)) await c.query(sql);
      await c.query(`INSERT IGNORE INTO ${tableName(prefix, 'wwtp_schema_version')} (version) VALUES (?)`, [m.version]);
      log.info({ version: m.version }, 'central schema migrated');
    }
  }

  function drop(): void {
    const c = conn;
    conn = undefined;
    if (c) c.destroy();
  }

  return {
    name: 'mariadb',
    async connect(): Promise<void> {
      try {
        await connection();
      } catch (error) {
        drop();
        throw error;
      }
    },
    async write<T extends HistoryTable>(table: T, rows: readonly SiteRow<T>[]): Promise<void> {
      if (rows.length === 0) return;
      const spec = TABLE_SPECS[table];
      const values = rows.map((r) => [r.site, ...toSqlValues(spec, r)]);
      try {
        const c = await connection();
        await c.beginTransaction();
        await c.batch(insertSql(prefix, table), values);
        await c.commit();
      } catch (error) {
        drop();
        throw error;
      }
    },
    async readBack<T extends HistoryTable>(table: T, site: string): Promise<SiteRow<T>[]> {
      const c = await connection();
      const rows = (await c.query(selectSiteSql(prefix, table), [site])) as Record<string, unknown>[];
      return rows.map((r) => ({ ...fromSqlRow(TABLE_SPECS[table], r), site: r['site'] }) as unknown as SiteRow<T>);
    },
    async close(): Promise<void> {
      const c = conn;
      conn = undefined;
      if (!c) return;
      try {
        await c.end();
      } catch {
        c.destroy();
      }
    },
  };
}
