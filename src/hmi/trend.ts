import { isStage, type StageId } from '../contract/plant.js';
import type { HistorySource } from '../http/history.js';

export interface TrendSource extends HistorySource {
  readingBuckets(stage: StageId, signal: string, from: number, to: number, width: number): { bucket: number; mean: number; min: number; max: number }[];
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
/** Predictions read for a trend (a month of 5-min windows at four horizons is 36,000). */
const MAX_PREDICTIONS = 200_000;

const bucketWidth = (from: number, to: number, buckets = BUCKETS): number => Math.max(1, Math.ceil((to - from) / buckets));

/** Samples bucketed to at most BUCKETS points (mean, min, max per bucket). */
export function bucket(rows: readonly { ts: number; value: number }[], from: number, to: number, buckets = BUCKETS): TrendPoint[] {
  const width = bucketWidth(from, to, buckets);
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

/**
 * GET /hmi/api/trend?stage=&signal=&hours=24|168: a signal from the store with its predictions, the
 * readings bucketed in the store (a week of one-second readings is 604,800 of them).
 */
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
  const width = bucketWidth(from, to);
  const points = source.readingBuckets(stage, signal, from, to, width).map((b) => ({ ts: from + b.bucket * width + width / 2, mean: b.mean, min: b.min, max: b.max }));
  const page = source.history('predictions', undefined, MAX_PREDICTIONS, { from: from - 24 * 3_600_000, to, stage, signal });
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
  return { stage, signal, from, to, points, predictions };
}
