import { isStage, type StageId } from '../contract/plant.js';
import type { ReadingRow } from '../contract/rows.js';
import type { HistorySource } from '../http/history.js';

export interface TrendSource extends HistorySource {
  readingsBetween(from: number, to: number, filter?: { stage?: StageId; signal?: string; limit?: number }): ReadingRow[];
}

export interface TrendPoint {
  readonly ts: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export interface Trend {
  readonly stage: StageId;
  readonly signal: string;
  readonly from: number;
  readonly to: number;
  readonly points: readonly TrendPoint[];
  /** Per horizon: predictions placed at the time they were made for (ts + horizon), against the actuals. */
  readonly predictions: readonly { readonly horizonMin: number; readonly points: readonly { readonly ts: number; readonly value: number }[] }[];
}

const BUCKETS = 360;
const MAX_ROWS = 200_000;

/** Readings bucketed to at most BUCKETS points (mean, min, max per bucket). */
export function bucket(rows: readonly { ts: number; value: number }[], from: number, to: number, buckets = BUCKETS): TrendPoint[] {
  const width = Math.max(1, Math.ceil((to - from) / buckets));
  const out: TrendPoint[] = [];
  let current: { start: number; sum: number; n: number; min: number; max: number } | undefined;
  const close = (): void => {
    if (current) out.push({ ts: current.start + width / 2, mean: current.sum / current.n, min: current.min, max: current.max });
  };
  for (const r of rows) {
    const start = from + Math.floor((r.ts - from) / width) * width;
    if (!current || current.start !== start) {
      close();
      current = { start, sum: 0, n: 0, min: Infinity, max: -Infinity };
    }
    current.sum += r.value;
    current.n += 1;
    current.min = Math.min(current.min, r.value);
    current.max = Math.max(current.max, r.value);
  }
  close();
  return out;
}

/** GET /hmi/api/trend?stage=&signal=&hours=24|168: a signal from the store with its predictions. */
export function trend(source: TrendSource, query: URLSearchParams, now: number): Trend | { error: string } {
  const stage = query.get('stage') ?? '';
  const signal = query.get('signal') ?? '';
  const hours = Number(query.get('hours') ?? '24');
  if (!isStage(stage)) return { error: `unknown stage "${stage.slice(0, 40)}"` };
  if (!/^[a-z0-9_]{1,64}$/.test(signal)) return { error: `bad signal "${signal.slice(0, 40)}"` };
  if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 31) return { error: 'hours: 1 to 744' };
  const toText = query.get('to');
  const to = toText !== null && /^\d{1,15}$/.test(toText) ? Number(toText) : now;
  const from = to - hours * 3_600_000;
  const readings = source.readingsBetween(from, to, { stage, signal, limit: MAX_ROWS });
  const page = source.history('predictions', undefined, MAX_ROWS, { from: from - 24 * 3_600_000, to, stage, signal });
  const byHorizon = new Map<number, { ts: number; value: number }[]>();
  for (const p of page.rows) {
    const at = p.ts + p.horizonMin * 60_000;
    if (at < from || at > to + 24 * 3_600_000) continue;
    const list = byHorizon.get(p.horizonMin) ?? [];
    list.push({ ts: at, value: p.value });
    byHorizon.set(p.horizonMin, list);
  }
  const predictions = [...byHorizon.entries()]
    .sort(([a], [b]) => a - b)
    .map(([horizonMin, list]) => {
      list.sort((a, b) => a.ts - b.ts);
      return { horizonMin, points: bucket(list, from, to + horizonMin * 60_000).map((b) => ({ ts: b.ts, value: b.mean })) };
    });
  return { stage, signal, from, to, points: bucket(readings, from, to), predictions };
}
