import { setImmediate as nextTurn } from 'node:timers/promises';
import { isStage, type StageId } from '../contract/plant.js';
import type { HistorySource } from '../http/history.js';

export interface TrendSource extends HistorySource {
  readingStats(stage: StageId, signal: string, from: number, to: number): { mean: number | null; min: number | null; max: number | null; n: number };
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
/** Buckets read per turn of the event loop: each is one indexed range query (about a millisecond for an hour of 1 s readings). */
const BUCKETS_PER_TURN = 12;
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
 * GET /hmi/api/trend?stage=&signal=&hours=24|168: a signal from the store with its predictions. Each
 * bucket is one range query of the store's index (every reading counts, a week of one-second readings is
 * 604,800, and none is held in memory), a few buckets per turn of the event loop so that the daemon
 * goes on committing readings meanwhile.
 */
export async function trend(source: TrendSource, query: URLSearchParams, now: number): Promise<Trend | { error: string }> {
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
  const points: TrendPoint[] = [];
  for (let k = 0; from + k * width < to; k += 1) {
    if (k > 0 && k % BUCKETS_PER_TURN === 0) await nextTurn();
    const s = source.readingStats(stage, signal, from + k * width, Math.min(to, from + (k + 1) * width));
    if (s.n > 0 && s.mean !== null && s.min !== null && s.max !== null) points.push({ ts: from + k * width + width / 2, mean: s.mean, min: s.min, max: s.max });
  }
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
