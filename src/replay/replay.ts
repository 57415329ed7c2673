import type { MqttClient } from 'mqtt';
import type { SignalConfig } from '../config/sections/plant.js';
import { readingTopic } from '../contract/topics.js';
import { UsageError } from '../cli/io.js';
import { readCsvRows } from '../lib/csv.js';
import { checkHeader, csvLayout, rowSamples } from '../mapping/csv-samples.js';
import type { MapFile } from '../mapping/map-file.js';
import { createTagMap, toNumber } from '../mapping/tag-map.js';
import { conversion } from '../mapping/units.js';
import { planPlantMessages, rowMessages, type PlantMessage } from './plant-messages.js';

export interface ReplayOptions {
  readonly csv: string;
  readonly map: MapFile;
  /** Site of `wwtp/{site}/...` readings (maps without `tags.mqtt`). */
  readonly site: string;
  /** The signals, for the units of a map whose points name one (maps without `tags.mqtt`). */
  readonly signals: readonly SignalConfig[];
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
  /** `plant`: the plant's own topics through `tags.mqtt`; `wwtp`: `wwtp/{site}/{stage}/{signal}`. */
  readonly layout: 'plant' | 'wwtp';
}

type RowPublisher = (values: readonly { tag: string; value: number }[], ts: number) => PlantMessage[];

/** Readings as `wwtp/{site}/{stage}/{signal}` JSON, scaled and converted to the signal's unit. */
function wwtpPublisher(opts: ReplayOptions): RowPublisher {
  const points = new Map(
    opts.map.tags.points.map((p) => {
      let convert = (v: number): number => v;
      if (p.unit !== undefined) {
        const signal = opts.signals.find((s) => s.stage === p.stage && s.id === p.signal);
        if (!signal) throw new UsageError(`map ${opts.map.file}: tag ${p.tag} maps to ${p.stage}/${p.signal}, which is not a configured signal`);
        const c = conversion(p.unit, signal.unit);
        if ('error' in c) throw new UsageError(`map ${opts.map.file}: tag ${p.tag}: ${c.error}`);
        convert = c;
      }
      return [p.tag, { topic: readingTopic(opts.site, p.stage, p.signal), scale: p.scale, offset: p.offset, convert }] as const;
    }),
  );
  return (values, ts) =>
    values.flatMap(({ tag, value }) => {
      const p = points.get(tag);
      return p ? [{ topic: p.topic, payload: JSON.stringify({ value: p.convert(value * p.scale + p.offset), ts }) }] : [];
    });
}

/** Tags through the plant's own topics and payloads, raw values in the plant's units. */
function plantPublisher(opts: ReplayOptions): RowPublisher {
  const tags = createTagMap({ ...opts.map.tags, points: [] }, []);
  const names = [...new Set([...opts.map.tags.points.flatMap((p) => (p.valid?.when ? [p.valid.when.tag] : [])), ...opts.map.tags.points.map((p) => p.tag)])];
  const plan = planPlantMessages(tags, names);
  if (plan.unpublishable.length > 0) {
    throw new UsageError(`map ${opts.map.file}: no tags.mqtt source with a timestamp can publish tag(s) ${plan.unpublishable.slice(0, 10).join(', ')}`);
  }
  return (values, ts) => rowMessages(plan, values, ts);
}

/**
 * Publishes every mapped cell of the CSV at QoS 1, paced by event time at `speed`: as the plant's own
 * tags when the map has `tags.mqtt` sources (the daemon maps them back), else as readings. Cells that
 * are empty or not numbers are skipped and counted (the daemon would dead-letter them).
 */
export async function replayCsv(client: MqttClient, opts: ReplayOptions, signal: AbortSignal, onRow?: (rows: number) => void): Promise<ReplayResult> {
  const { map } = opts;
  const layout = csvLayout(map.tags, map.file);
  if ('error' in layout) throw new UsageError(layout.error);
  const plant = map.tags.mqtt.length > 0 && !map.legacy;
  const publisher = plant ? plantPublisher(opts) : wwtpPublisher(opts);
  const inflightMax = opts.inflight ?? 256;
  let rows = 0;
  let published = 0;
  let skipped = 0;
  let firstTs: number | undefined;
  let wallStart = 0;
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  let present = new Set<string>();
  const rowsOf = readCsvRows(opts.csv, (header) => {
    const checked = checkHeader(layout, header, `CSV ${opts.csv} with map ${map.file}`);
    if ('error' in checked) throw new UsageError(checked.error);
    present = new Set(header);
  });
  for await (const { line, row } of rowsOf) {
    if (signal.aborted) break;
    const timeText = row[layout.timeColumn] ?? '';
    let ts = layout.time(timeText);
    if (!Number.isFinite(ts)) throw new UsageError(`CSV ${opts.csv} line ${line}: time "${timeText}" is not ${map.tags.csv?.time.format ?? 'iso'}`);
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
    const values: { tag: string; value: number }[] = [];
    const samples = rowSamples(layout, row, ts);
    skipped += layout.columns.filter((c) => present.has(c)).length - samples.length;
    for (const sample of samples) {
      const value = toNumber(sample.value);
      if (value === undefined || !Number.isFinite(value)) skipped += 1;
      else values.push({ tag: sample.tag, value });
    }
    for (const message of publisher(values, ts)) {
      const sent = client.publishAsync(message.topic, message.payload, { qos: 1 }).then(
        () => {
          published += 1;
          inflight.delete(sent);
        },
        (error: unknown) => {
          failure ??= error;
          inflight.delete(sent);
        },
      );
      inflight.add(sent);
      if (inflight.size >= inflightMax) await Promise.race(inflight);
    }
    if (failure !== undefined) break;
    rows += 1;
    onRow?.(rows);
  }
  await Promise.all(inflight);
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return { rows, published, skipped, layout: plant ? 'plant' : 'wwtp' };
}
