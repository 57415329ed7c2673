import type { EdgeConfig } from '../config/schema.js';
import { reportInChild } from '../report/child.js';
import { dayBounds, type ReportFormat } from '../report/index.js';
import type { HttpReply } from './server.js';

/** Reports computed at once; one more is refused with 503 until one ends. */
const MAX_RUNNING = 2;

/**
 * GET /api/v1/report?day=YYYY-MM-DD[&format=json|csv|html]: the regulator's daily report (JSON by
 * default), computed in a child process from the store file, so the daemon keeps committing and
 * acknowledging readings while it runs.
 */
export function createReportRoute(config: Readonly<EdgeConfig>): (query: URLSearchParams) => Promise<HttpReply> {
  let running = 0;
  return async (query) => {
    const day = query.get('day') ?? '';
    if (!dayBounds(day)) return { status: 400, body: { error: `bad day "${day.slice(0, 20)}": YYYY-MM-DD` } };
    const format = (query.get('format') ?? 'json') as ReportFormat;
    if (!['json', 'csv', 'html'].includes(format)) return { status: 400, body: { error: `bad format "${format.slice(0, 20)}": json, csv or html` } };
    if (running >= MAX_RUNNING) return { status: 503, body: { error: `${running} reports are being computed; ask again when one is done` } };
    running += 1;
    try {
      const out = await reportInChild(config, day, format);
      return { status: 200, body: out.body, contentType: out.contentType };
    } finally {
      running -= 1;
    }
  };
}
