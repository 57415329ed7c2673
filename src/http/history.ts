import type { HistoryTable } from '../contract/rows.js';
import { EdgeError } from '../lib/lifecycle.js';
import { isHistoryTable, type HistoryPage } from '../store/reader.js';

/** What the history handler needs from the store. */
export interface HistorySource {
  history<T extends HistoryTable>(table: T, since: string | undefined, limit: number): HistoryPage<T>;
}

export interface HistoryResponse {
  readonly status: 200 | 400 | 503;
  readonly body: { readonly table: HistoryTable; readonly rows: readonly unknown[]; readonly next: string; readonly more: boolean } | { readonly error: string };
}

/**
 * GET /api/v1/history/{table}?since=CURSOR&limit=N, as a pure function the HTTP server mounts.
 * Rows are the ones the push sync sends (contract rows plus `site`); `next` is the cursor for the
 * following page; `more` says a full page came back, so there may be more rows.
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
  try {
    const page = source.history(table, since, limit);
    return { status: 200, body: { table, rows: page.rows, next: page.next, more: page.rows.length === limit } };
  } catch (error) {
    if (error instanceof EdgeError && error.code === 'BAD_CURSOR') return { status: 400, body: { error: error.message } };
    if (error instanceof EdgeError && error.code === 'STORE_CLOSED') return { status: 503, body: { error: 'store not open' } };
    throw error;
  }
}

/** Matches `/api/v1/history/{table}`; returns the table segment or undefined. */
export function matchHistoryPath(pathname: string): string | undefined {
  const m = /^\/api\/v1\/history\/([^/]+)\/?$/.exec(pathname);
  return m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
}
