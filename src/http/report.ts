import type { EdgeConfig } from '../config/schema.js';
import { dailyReport, dayBounds, renderReport, type ReportFormat, type ReportSource } from '../report/index.js';
import type { HttpReply } from './server.js';

/** GET /api/v1/report?day=YYYY-MM-DD[&format=json|csv|html]: the regulator's daily report (JSON by default). */
export function reportRequest(source: ReportSource, config: Readonly<EdgeConfig>, query: URLSearchParams): HttpReply {
  const day = query.get('day') ?? '';
  if (!dayBounds(day)) return { status: 400, body: { error: `bad day "${day.slice(0, 20)}": YYYY-MM-DD` } };
  const format = (query.get('format') ?? 'json') as ReportFormat;
  if (!['json', 'csv', 'html'].includes(format)) return { status: 400, body: { error: `bad format "${format.slice(0, 20)}": json, csv or html` } };
  const out = renderReport(dailyReport(source, config, day), format);
  return { status: 200, body: out.body, contentType: out.contentType };
}
