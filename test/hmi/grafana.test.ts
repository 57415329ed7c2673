import mariadb from 'mariadb';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { repoRoot, tempDir } from '../helpers/daemon.js';
import { dropPrefix, mariadbReachable, MARIADB_URL, requireMariadb, uniquePrefix } from '../sync/helpers.js';

/**
 * The Grafana dashboards in grafana/dashboards ask only for what exists: every wwtp_edge_* metric a
 * Prometheus query names is on the daemon's /metrics (a daemon with models and the central sync on), and
 * every SQL query runs on the central MariaDB tables the sync creates. A renamed metric or column fails.
 */
interface Target {
  readonly expr?: string;
  readonly rawSql?: string;
}
interface Panel {
  readonly title: string;
  readonly targets?: readonly Target[];
}

const dashboards = readdirSync(join(repoRoot, 'grafana', 'dashboards')).filter((f) => f.endsWith('.json'));
const queries = dashboards.flatMap((file) => {
  const dash = JSON.parse(readFileSync(join(repoRoot, 'grafana', 'dashboards', file), 'utf8')) as { panels: Panel[]; templating?: { list: { query: unknown }[] } };
  const fromPanels = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ file, title: p.title, expr: t.expr, sql: t.rawSql })));
  const fromVariables = (dash.templating?.list ?? []).map((v) => {
    const q = typeof v.query === 'string' ? v.query : ((v.query as { query?: string }).query ?? '');
    return q.startsWith('SELECT') ? { file, title: 'variable', expr: undefined, sql: q } : { file, title: 'variable', expr: q, sql: undefined };
  });
  return [...fromPanels, ...fromVariables];
});

/** The wwtp_edge_* series names a PromQL expression reads. */
export function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\b(wwtp_edge_[a-z0-9_]+)\b/g)].map((m) => m[1] ?? '');
}

/** Series names /metrics exposes: each TYPE line, with _bucket, _sum and _count for histograms. */
export function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    if (!name) continue;
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

/** Grafana's macros and variables replaced, the tables given the test's prefix. */
export function runnableSql(sql: string, prefix: string): string {
  return sql
    .replace(/\$__unixEpochFrom\(\)/g, '0')
    .replace(/\$__unixEpochTo\(\)/g, '4102444800')
    .replace(/\$site/g, 'site-x')
    .replace(/\b(FROM|JOIN)\s+([a-z_]+)/gi, (_m, kw: string, table: string) => `${kw} \`${prefix}${table}\``);
}

const reachable = await mariadbReachable();
const skip = !reachable && !requireMariadb;

describe.skipIf(skip)('Grafana dashboards', () => {
  let runtime: Runtime;
  let metricsText = '';
  const prefix = uniquePrefix('grafana');

  beforeAll(async () => {
    const dir = tempDir('wwtp-grafana-');
    const config = loadConfig({
      override: {
        site: `grafana${process.pid}`,
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
        http: { port: 0 },
        storage: { path: join(dir, 'edge.sqlite') },
        sync: { enabled: true, mariadb: { url: MARIADB_URL, tablePrefix: prefix, connectTimeoutMs: 2_000 }, intervalMs: 100 },
      },
    });
    runtime = createRuntime(config, { logger: silentLogger() });
    await runtime.start(new AbortController().signal);
    const base = `http://127.0.0.1:${runtime.ports().http}`;
    // the central tables exist once the sync has connected and migrated
    const c = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    try {
      for (let i = 0; i < 100; i += 1) {
        const rows = (await c.query('SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [`${prefix}operator_actions`])) as { n: bigint }[];
        if (Number(rows[0]?.n ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await c.end();
    }
    metricsText = await (await fetch(`${base}/metrics`)).text();
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    await dropPrefix(prefix);
  });

  it('finds queries in both dashboards', () => {
    expect(dashboards.sort()).toEqual(['wwtp-central.json', 'wwtp-edge.json']);
    expect(queries.filter((q) => q.expr).length).toBeGreaterThanOrEqual(10);
    expect(queries.filter((q) => q.sql).length).toBeGreaterThanOrEqual(8);
    const provisioned = readFileSync(join(repoRoot, 'grafana', 'provisioning', 'datasources', 'wwtp-edge.yaml'), 'utf8');
    const uids = new Set([...provisioned.matchAll(/^\s+uid: (\S+)$/gm)].map((m) => m[1]));
    for (const file of dashboards) {
      const used = [...readFileSync(join(repoRoot, 'grafana', 'dashboards', file), 'utf8').matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]).filter((u) => !u?.startsWith('wwtp-edge') && !u?.startsWith('wwtp-central'));
      expect(used.filter((u) => !uids.has(u))).toEqual([]);
    }
  });

  it('names only metrics the daemon exposes', () => {
    const names = exposed(metricsText);
    expect(names.has('wwtp_edge_window_to_setpoint_seconds_bucket')).toBe(true);
    const missing = queries.flatMap((q) => (q.expr ? metricsOf(q.expr).filter((m) => !names.has(m)).map((m) => `${q.file} "${q.title}": ${m}`) : []));
    expect(missing).toEqual([]);
    // the check itself: a metric that does not exist is caught
    expect(metricsOf('rate(wwtp_edge_readings_totl[5m])').filter((m) => !names.has(m))).toEqual(['wwtp_edge_readings_totl']);
  });

  it('runs every SQL query on the central tables', async () => {
    const c = await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    try {
      const failures: string[] = [];
      for (const q of queries) {
        if (!q.sql) continue;
        try {
          await c.query(runnableSql(q.sql, prefix));
        } catch (error) {
          failures.push(`${q.file} "${q.title}": ${(error as Error).message.split('\n')[0] ?? ''}`);
        }
      }
      expect(failures).toEqual([]);
      // the check itself: a column that does not exist is caught
      await expect(c.query(runnableSql("SELECT ts, stage, sgnal FROM readings WHERE site = '$site'", prefix))).rejects.toThrow(/Unknown column 'sgnal'/);
    } finally {
      await c.end();
    }
  });
});
