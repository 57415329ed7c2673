import type { ReadingRow, WindowRow } from '../contract/rows.js';
import type { WindowsConfig } from '../config/sections/windows.js';
import type { WindowResume } from './operators.js';

/** The store's newest rows by arrival (seq), as the daemon's store reads them. */
export interface RecentRows {
  readAfter(table: 'windows', after: number, limit: number): { rows: readonly WindowRow[] };
  readAfter(table: 'readings', after: number, limit: number): { rows: readonly ReadingRow[] };
  maxSeq(table: 'windows' | 'readings'): number;
}

/**
 * Where the windows go on after a stop: the last stored window's end (no window is made twice) and the
 * readings a hard stop (kill -9, a power cut) left in the windows after it, committed but never
 * windowed, among the newest `limit` readings by arrival. After a clean stop the open windows were
 * closed, so there are none, and the windows start from the first live reading's. Undefined when the
 * store holds no window yet.
 */
export function windowsOpenAtStop(store: RecentRows, windows: Pick<WindowsConfig, 'sizeSec' | 'slideSec'>, limit: number): WindowResume | undefined {
  const lastWindow = store.readAfter('windows', Math.max(0, store.maxSeq('windows') - 1), 1).rows[0];
  if (!lastWindow) return undefined;
  const lastEnd = lastWindow.windowEnd;
  const from = lastEnd + windows.slideSec * 1000 - windows.sizeSec * 1000;
  const recent = store.readAfter('readings', Math.max(0, store.maxSeq('readings') - limit), limit).rows;
  const readings = recent
    .filter((r) => r.ts >= from && r.quality !== 'bad')
    .sort((a, b) => a.ts - b.ts)
    .map((r) => ({ stage: r.stage, signal: r.signal, ts: r.ts, value: r.value, quality: r.quality, receivedAt: r.ts }));
  return { lastEnd, readings };
}
