import type { HistoryTable } from '../contract/rows.js';
import { EdgeError } from '../lib/lifecycle.js';
import { isHistoryTable, type HistoryFilter, type HistoryPage } from '../store/reader.js';

/** What the history handler needs from the store. */
export interface HistorySource {
  history<T extends HistoryTable>(table: T, since: string | undefined, limit: number, filter?: HistoryFilter): HistoryPage<T>;
}

export interface HistoryResponse {
  readonly status: 200 | 400 | 503;
  readonly body: { readonly table: HistoryTable; readonly rows: readonly unknown[]; readonly next: string; readonly more: boolean } | { readonly error: string };
}

/** Epoch ms or an ISO-8601 date/time; undefined when absent, an error text when malformed. */
export function parseTime(text: string | null, name: string): number | undefined | { error: string } {
  if (text === null || text === '') return undefined;
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) ? ms : { error: `bad ${name} "${text.slice(0, 40)}": epoch ms or ISO-8601` };
}

const NAME = /^[a-z0-9_]{1,64}$/;

/**
 * GET /api/v1/history/{table}?since=CURSOR&limit=N[&from=&to=&stage=&signal=], as a pure function the
 * HTTP server mounts. Rows are the ones the push sync sends (contract rows plus `site`); `next` is the
 * cursor for the following page; `more` says a full page came back, so there may be more rows.
 * from/to bound the table's event time (epoch ms or ISO-8601, to exclusive); stage and signal select
 * rows of tables that have those columns.
 */
export function historyRequest(source: HistorySource, table: string, query: URLSearchParams, maxPageRows: number): HistoryResponse {
  if (!isHistoryTable(table)) return { status: 400, body: { error: `unknown table "${table.slice(0, 40)}"` } };
  const since = query.get('since') ?? undefined;
  const limitText = query.get('limit');
  let limit = maxPageRows;
  if (limitText !== null) {
    if (!/^\d{1,9}$/.test(limitText) || Number(limitText) < 1) return { status: 400, body: { error: `bad limit "${limitText.slice(0, 20)}": a positive integer` } };
    limit = Math.min(Number(limitText), maxPageRows);
  }
  const from = parseTime(query.get('from'), 'from');
  const to = parseTime(query.get('to'), 'to');
  if (typeof from === 'object') return { status: 400, body: from };
  if (typeof to === 'object') return { status: 400, body: to };
  const filter: { -readonly [K in keyof HistoryFilter]: HistoryFilter[K] } = { from, to };
  for (const name of ['stage', 'signal'] as const) {
    const value = query.get(name);
    if (value === null) continue;
    if (!NAME.test(value)) return { status: 400, body: { error: `bad ${name} "${value.slice(0, 40)}"` } };
    filter[name] = value;
  }
  try {
    const page = source.history(table, since, limit, filter);
    return { status: 200, body: { table, rows: page.rows, next: page.next, more: page.rows.length === limit } };
  } catch (error) {
    if (error instanceof EdgeError && (error.code === 'BAD_CURSOR' || error.code === 'BAD_FILTER')) return { status: 400, body: { error: error.message } };
    if (error instanceof EdgeError && error.code === 'STORE_CLOSED') return { status: 503, body: { error: 'store not open' } };
    throw error;
  }
}

/** Matches `/api/v1/history/{table}`; returns the table segment or undefined. */
export function matchHistoryPath(pathname: string): string | undefined {
  const m = /^\/api\/v1\/history\/([^/]+)\/?$/.exec(pathname);
  return m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
}
