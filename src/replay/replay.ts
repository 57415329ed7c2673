import type { MqttClient } from 'mqtt';
import { readingTopic } from '../contract/topics.js';
import { UsageError } from '../cli/io.js';
import { readCsvRows } from './csv-rows.js';
import type { ReplayMap } from './map.js';

export interface ReplayOptions {
  readonly csv: string;
  readonly map: ReplayMap;
  /** Plant seconds per wall second; 0 publishes as fast as the broker acknowledges. */
  readonly speed: number;
  /** QoS 1 messages in flight at most. */
  readonly inflight?: number;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ReplayResult {
  readonly rows: number;
  readonly published: number;
  readonly skipped: number;
}

export function parseTime(text: string, format: ReplayMap['time']['format']): number {
  if (format === 'epoch-ms') return Number(text);
  if (format === 'epoch-s') return Number(text) * 1000;
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text.replace(' ', 'T')}Z` : text;
  return Date.parse(iso);
}

/**
 * Publishes every mapped cell of the CSV as a JSON reading at QoS 1, paced by event time at `speed`.
 * Cells that are empty or not numbers are skipped and counted (the daemon would dead-letter them).
 */
export async function replayCsv(client: MqttClient, opts: ReplayOptions, signal: AbortSignal, onRow?: (rows: number) => void): Promise<ReplayResult> {
  const { map } = opts;
  const inflightMax = opts.inflight ?? 256;
  let rows = 0;
  let published = 0;
  let skipped = 0;
  let firstTs: number | undefined;
  let wallStart = 0;
  const inflight = new Set<Promise<void>>();
  for await (const { line, row } of readCsvRows(opts.csv)) {
    if (signal.aborted) break;
    const timeText = row[map.time.column];
    if (timeText === undefined) throw new UsageError(`CSV ${opts.csv}: no column "${map.time.column}" (map time.column)`);
    let ts = parseTime(timeText, map.time.format);
    if (!Number.isFinite(ts)) throw new UsageError(`CSV ${opts.csv} line ${line}: time "${timeText}" is not ${map.time.format}`);
    if (firstTs === undefined) {
      firstTs = ts;
      wallStart = opts.now();
    }
    if (map.shiftToNow) ts = wallStart + (ts - firstTs);
    if (opts.speed > 0) {
      const due = wallStart + (ts - (map.shiftToNow ? wallStart : firstTs)) / opts.speed;
      const wait = due - opts.now();
      if (wait > 1) await opts.sleep(wait, signal);
    }
    for (const column of map.columns) {
      const cell = row[column.column];
      if (cell === undefined) throw new UsageError(`CSV ${opts.csv}: no column "${column.column}" (map columns)`);
      const value = Number(cell) * column.scale + column.offset;
      if (cell === '' || !Number.isFinite(value)) {
        skipped += 1;
        continue;
      }
      const sent = client.publishAsync(readingTopic(map.site, column.stage, column.signal), JSON.stringify({ value, ts }), { qos: 1 }).then(() => {
        published += 1;
        inflight.delete(sent);
      });
      inflight.add(sent);
      if (inflight.size >= inflightMax) await Promise.race(inflight);
    }
    rows += 1;
    onRow?.(rows);
  }
  await Promise.all(inflight);
  return { rows, published, skipped };
}
