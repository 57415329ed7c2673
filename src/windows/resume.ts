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
 * windowed. They are searched newest first by arrival, a page of `pageRows` at a time, until a page
 * holds none of them (what arrived earlier belongs to closed windows) or `limit` readings were read;
 * `complete` says whether the search ended before that limit. After a clean stop the open windows were
 * closed, so there are none, and the windows start from the first live reading's. Undefined when the
 * store holds no window yet.
 */
export function windowsOpenAtStop(store: RecentRows, windows: Pick<WindowsConfig, 'sizeSec' | 'slideSec'>, limit: number, pageRows = 100_000): (WindowResume & { readonly complete: boolean }) | undefined {
  const lastWindow = store.readAfter('windows', Math.max(0, store.maxSeq('windows') - 1), 1).rows[0];
  if (!lastWindow) return undefined;
  const lastEnd = lastWindow.windowEnd;
  const from = lastEnd + windows.slideSec * 1000 - windows.sizeSec * 1000;
  const open: ReadingRow[] = [];
  let upper = store.maxSeq('readings');
  let read = 0;
  let complete = false;
  while (read < limit) {
    const after = Math.max(0, upper - Math.min(pageRows, limit - read));
    const page = store.readAfter('readings', after, upper - after).rows;
    read += upper - after;
    let inOpen = 0;
    for (const r of page) {
      if (r.ts < from) continue;
      open.push(r);
      inOpen += 1;
    }
    if (after === 0 || inOpen === 0) {
      complete = true;
      break;
    }
    upper = after;
  }
  const readings = open
    .filter((r) => r.quality !== 'bad')
    .sort((a, b) => a.ts - b.ts)
    .map((r) => ({ stage: r.stage, signal: r.signal, ts: r.ts, value: r.value, quality: r.quality, receivedAt: r.ts }));
  return { lastEnd, readings, complete };
}
