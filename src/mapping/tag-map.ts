import type { SignalConfig } from '../config/sections/plant.js';
import type { MqttSource, TagPoint, TagsConfig } from '../config/sections/tags.js';
import type { DeadLetterReason, Quality, Reading } from '../contract/reading.js';
import { validateReading, isRejection, type SignalEntry, type TimeWindow } from '../ingest/validate.js';
import { parseJsonPath, readPath, type JsonPath } from './json-path.js';
import { matchTopic, parsePattern, parseTemplate, type Template, type TopicPattern } from './pattern.js';
import { parseTime, type TimeFormat } from './time.js';
import { conversion, type Conversion } from './units.js';

/** One tag's value as a message or a CSV row carried it, before mapping. */
export interface TagSample {
  readonly tag: string;
  readonly value: unknown;
  /** Event time, epoch ms; undefined: receive time. */
  readonly ts?: number | undefined;
  readonly quality?: Quality | undefined;
}

export interface SampleRejection {
  readonly tag: string;
  readonly reason: DeadLetterReason;
  readonly detail: string;
}

export interface MappedSamples {
  readonly readings: Reading[];
  readonly rejections: SampleRejection[];
  /** Tags that no point maps and no point's `valid.when` reads. */
  readonly unmapped: string[];
  /** Values dropped by a point's `valid.otherwise: drop`. */
  readonly dropped: number;
}

interface Timestamp {
  readonly path: JsonPath | undefined;
  readonly format: TimeFormat;
  readonly zone: string;
}

export interface CompiledSource {
  readonly index: number;
  readonly pattern: TopicPattern;
  readonly tag: Template;
  readonly config: MqttSource;
  readonly value: JsonPath | undefined;
  readonly fields: readonly { readonly path: JsonPath; readonly tag: Template }[] | undefined;
  readonly object: JsonPath | undefined;
  readonly array: { readonly path: JsonPath; readonly tag: JsonPath; readonly value: JsonPath; readonly ts: JsonPath | undefined; readonly quality: JsonPath | undefined } | undefined;
  readonly timestamp: Timestamp | undefined;
  readonly quality: JsonPath | undefined;
}

interface CompiledPoint {
  readonly point: TagPoint;
  readonly entry: SignalEntry;
  readonly convert: Conversion;
}

export interface TagMap {
  readonly sources: readonly CompiledSource[];
  /** MQTT subscription filters of every source (the external broker subscribes to them). */
  readonly filters: readonly string[];
  /** The first source whose pattern matches the topic, with its named levels. */
  match(topic: string): { readonly source: CompiledSource; readonly levels: Readonly<Record<string, string>> } | undefined;
  /** The tags of one message, or why the payload is not the source's shape. */
  decode(source: CompiledSource, levels: Readonly<Record<string, string>>, payload: Buffer): TagSample[] | SampleRejection;
  /** Samples to validated readings: unit conversion, per-tag validity, the signal's checks. */
  map(samples: readonly TagSample[], receivedAt: number, window: TimeWindow): MappedSamples;
  /** Whether a tag is mapped or read by a validity condition. */
  knows(tag: string): boolean;
  readonly points: readonly TagPoint[];
  /** Tags read by some point's `valid.when`. */
  readonly flags: ReadonlySet<string>;
}

/** The plant's own quality codes (config `quality.good/uncertain/bad`), then the standard reading. */
export type QualityCodes = Readonly<Partial<Record<Quality, readonly (string | number | boolean)[]>>>;

export function codedQuality(raw: unknown, codes: QualityCodes | undefined): Quality | undefined {
  if (raw === undefined) return undefined;
  if (codes) {
    for (const q of ['good', 'uncertain', 'bad'] as const) if (codes[q]?.some((c) => c === raw)) return q;
  }
  return toQuality(raw) ?? 'bad';
}

/** OPC-style quality codes (>= 192 good, >= 64 uncertain), booleans, or the words themselves. */
export function toQuality(raw: unknown): Quality | undefined {
  if (raw === 'good' || raw === 'uncertain' || raw === 'bad') return raw;
  if (typeof raw === 'boolean') return raw ? 'good' : 'bad';
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
  if (n === undefined) return undefined;
  return n >= 192 ? 'good' : n >= 64 ? 'uncertain' : 'bad';
}

/** A tag value as a number: numbers, decimal text, booleans (1/0); else undefined. */
export function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const n = Number(raw.trim());
    return Number.isNaN(n) && !/^[+-]?(nan|inf(inity)?)$/i.test(raw.trim()) ? undefined : n;
  }
  return undefined;
}

const WORST: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
const worst = (a: Quality, b: Quality): Quality => (WORST[a] >= WORST[b] ? a : b);

function compileSource(source: MqttSource, index: number): CompiledSource {
  const pattern = parsePattern(source.topic);
  if ('error' in pattern) throw new Error(`tags.mqtt.${index}.topic: ${pattern.error}`);
  const multi = source.fields !== undefined || source.object !== undefined || source.array !== undefined;
  const defaultTag = multi ? '{name}' : pattern.names.includes('tag') ? '{tag}' : pattern.names.length === 0 ? source.topic : '{tag}';
  const ts = source.timestamp;
  return {
    index,
    pattern,
    config: source,
    tag: parseTemplate(source.tag ?? defaultTag),
    value: source.value === undefined ? undefined : parseJsonPath(source.value),
    fields: source.fields?.map((f) => ({ path: parseJsonPath(f.path), tag: parseTemplate(f.tag) })),
    object: source.object === undefined ? undefined : parseJsonPath(source.object),
    array: source.array && {
      path: parseJsonPath(source.array.path),
      tag: parseJsonPath(source.array.tag),
      value: parseJsonPath(source.array.value),
      ts: source.array.timestamp === undefined ? undefined : parseJsonPath(source.array.timestamp),
      quality: source.array.quality === undefined ? undefined : parseJsonPath(source.array.quality),
    },
    timestamp: ts && { path: ts.path === undefined ? undefined : parseJsonPath(ts.path), format: ts.format, zone: ts.timezone },
    quality: source.quality?.path !== undefined ? parseJsonPath(source.quality.path) : undefined,
  };
}

/**
 * Builds the tag map from config `tags` and the signals. Throws on a point whose signal or unit does
 * not fit (the config schema refuses those at load, so this only fires on an unchecked map).
 */
export function createTagMap(tags: TagsConfig, signals: readonly SignalConfig[], entries?: ReadonlyMap<string, SignalEntry>): TagMap {
  const sources = tags.mqtt.map(compileSource);
  const points = new Map<string, CompiledPoint>();
  const flags = new Set<string>();
  for (const point of tags.points) {
    const signal = signals.find((s) => s.stage === point.stage && s.id === point.signal);
    if (!signal) throw new Error(`tag ${point.tag}: ${point.stage}/${point.signal} is not a configured signal`);
    const convert = conversion(point.unit ?? signal.unit, signal.unit);
    if ('error' in convert) throw new Error(`tag ${point.tag}: ${convert.error}`);
    const entry = entries?.get(`${signal.stage}/${signal.id}`) ?? { stage: signal.stage, signal: signal.id, min: signal.min, max: signal.max };
    points.set(point.tag, { point, entry, convert });
    if (point.valid?.when) flags.add(point.valid.when.tag);
  }
  // The last value of every tag a validity condition reads (mode flags), whatever message carried it.
  const flagValues = new Map<string, number>();

  const messageTime = (source: CompiledSource, json: unknown): number | undefined | SampleRejection => {
    const t = source.timestamp;
    if (!t?.path) return undefined;
    const raw = readPath(json, t.path);
    if (raw === undefined) return { tag: '', reason: 'bad_timestamp', detail: `no timestamp at ${source.config.timestamp?.path ?? ''}` };
    const ms = parseTime(raw, t.format, t.zone);
    return Number.isFinite(ms) ? ms : { tag: '', reason: 'bad_timestamp', detail: `timestamp ${JSON.stringify(raw).slice(0, 40)} is not ${t.format}` };
  };

  const decode: TagMap['decode'] = (source, levels, payload) => {
    const text = payload.toString('utf8').trim();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      if (source.value !== undefined || source.fields || source.object || source.array) return { tag: '', reason: 'unparseable', detail: 'invalid JSON' };
      json = text;
    }
    if (source.value === undefined && !source.fields && !source.object && !source.array) {
      const tag = source.tag.fill(levels);
      if (tag === undefined) return { tag: '', reason: 'unmapped', detail: `tag template ${source.tag.source} has no value` };
      return [{ tag, value: json }];
    }
    const ts = messageTime(source, json);
    if (typeof ts === 'object') return ts;
    const codes = source.config.quality;
    const quality = source.quality ? codedQuality(readPath(json, source.quality), codes) : undefined;
    const named = (name: string): string | undefined => source.tag.fill({ ...levels, name });
    if (source.value !== undefined) {
      const tag = source.tag.fill(levels);
      if (tag === undefined) return { tag: '', reason: 'unmapped', detail: `tag template ${source.tag.source} has no value` };
      const value = readPath(json, source.value);
      if (value === undefined) return { tag, reason: 'wrong_type', detail: `no value at ${source.config.value ?? ''}` };
      return [{ tag, value, ts, quality }];
    }
    const out: TagSample[] = [];
    if (source.fields) {
      for (const f of source.fields) {
        const tag = f.tag.fill(levels);
        const value = readPath(json, f.path);
        if (tag !== undefined && value !== undefined) out.push({ tag, value, ts, quality });
      }
      return out;
    }
    if (source.object) {
      const node = readPath(json, source.object);
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return { tag: '', reason: 'wrong_type', detail: `no object at ${source.config.object ?? ''}` };
      for (const [key, value] of Object.entries(node)) {
        const tag = named(key);
        if (tag !== undefined) out.push({ tag, value, ts, quality });
      }
      return out;
    }
    const a = source.array!;
    const list = readPath(json, a.path);
    if (!Array.isArray(list)) return { tag: '', reason: 'wrong_type', detail: `no array at ${source.config.array?.path ?? ''}` };
    for (const item of list) {
      const name = readPath(item, a.tag);
      if (typeof name !== 'string' && typeof name !== 'number') continue;
      const tag = named(String(name));
      if (tag === undefined) continue;
      let itemTs: number | undefined = ts;
      if (a.ts) {
        const raw = readPath(item, a.ts);
        if (raw !== undefined) {
          const ms = parseTime(raw, source.timestamp?.format ?? 'iso', source.timestamp?.zone ?? 'UTC');
          itemTs = Number.isFinite(ms) ? ms : NaN;
        }
      }
      const itemQuality = a.quality ? (codedQuality(readPath(item, a.quality), codes) ?? quality) : quality;
      out.push({ tag, value: readPath(item, a.value), ts: itemTs, quality: itemQuality });
    }
    return out;
  };

  const map: TagMap['map'] = (samples, receivedAt, window) => {
    const readings: Reading[] = [];
    const rejections: SampleRejection[] = [];
    const unmapped: string[] = [];
    let dropped = 0;
    // Flags first, so a value and the mode flag it depends on may come in one message or row.
    for (const s of samples) {
      if (!flags.has(s.tag)) continue;
      const n = toNumber(s.value);
      if (n !== undefined && Number.isFinite(n)) flagValues.set(s.tag, n);
    }
    for (const s of samples) {
      const compiled = points.get(s.tag);
      if (!compiled) {
        if (!flags.has(s.tag)) unmapped.push(s.tag);
        continue;
      }
      const { point, entry, convert } = compiled;
      const raw = toNumber(s.value);
      if (raw === undefined) {
        rejections.push({ tag: s.tag, reason: 'wrong_type', detail: `tag ${s.tag}: value ${JSON.stringify(s.value)?.slice(0, 40) ?? 'undefined'} is not a number` });
        continue;
      }
      if (!Number.isFinite(raw)) {
        rejections.push({ tag: s.tag, reason: 'not_finite', detail: `tag ${s.tag}: value ${String(raw)}` });
        continue;
      }
      if (s.ts !== undefined && !Number.isFinite(s.ts)) {
        rejections.push({ tag: s.tag, reason: 'bad_timestamp', detail: `tag ${s.tag}: timestamp is not valid` });
        continue;
      }
      const value = raw * point.scale + point.offset;
      let quality: Quality = s.quality ?? 'good';
      const valid = point.valid;
      if (valid) {
        const when = valid.when;
        const flag = when ? flagValues.get(when.tag) : undefined;
        const inRange = (valid.min === undefined || value >= valid.min) && (valid.max === undefined || value <= valid.max);
        const modeOk = !when || (flag !== undefined && (when.equals !== undefined ? flag === when.equals : (when.in ?? []).includes(flag)));
        if (!inRange || !modeOk) {
          if (valid.otherwise === 'drop') {
            dropped += 1;
            continue;
          }
          quality = worst(quality, valid.otherwise);
        }
      }
      const reading = validateReading(entry, convert(value), s.ts ?? receivedAt, quality, receivedAt, window);
      if (isRejection(reading)) {
        const raw = point.unit !== undefined && reading.reason === 'out_of_range' ? ` (${value} ${point.unit})` : '';
        rejections.push({ tag: s.tag, reason: reading.reason, detail: `tag ${s.tag}${raw}: ${reading.detail}` });
      }
      else readings.push(reading);
    }
    return { readings, rejections, unmapped, dropped };
  };

  return {
    sources,
    filters: [...new Set(sources.map((s) => s.pattern.filter))],
    match(topic) {
      for (const source of sources) {
        const levels = matchTopic(source.pattern, topic);
        if (levels) return { source, levels };
      }
      return undefined;
    },
    decode,
    map,
    knows: (tag) => points.has(tag) || flags.has(tag),
    points: tags.points,
    flags,
  };
}
