import type { CompiledSource, TagMap } from '../mapping/tag-map.js';
import { writePath } from '../mapping/json-path.js';
import { fillTopic } from '../mapping/pattern.js';
import { formatTime } from '../mapping/time.js';

/**
 * The inverse of `tags.mqtt` for replay: which message carries a tag as the plant would publish it
 * (its own topic, payload layout and units), so the daemon's map turns it back into readings.
 */
export interface PlantMessage {
  readonly topic: string;
  readonly payload: string;
}

interface Route {
  readonly source: CompiledSource;
  readonly topic: string;
  /** The tag's name inside the message (object key, array element), or its field path. */
  readonly name: string | undefined;
  readonly field: readonly string[] | undefined;
}

/** Where each tag goes, or the tags that no source can publish. */
export function planPlantMessages(tags: TagMap, tagNames: readonly string[]): { route(tag: string): Route | undefined; unpublishable: string[] } {
  const routes = new Map<string, Route>();
  const unpublishable: string[] = [];
  for (const tag of tagNames) {
    const route = routeOf(tags.sources, tag);
    if (route) routes.set(tag, route);
    else unpublishable.push(tag);
  }
  return { route: (tag) => routes.get(tag), unpublishable };
}

function routeOf(sources: readonly CompiledSource[], tag: string): Route | undefined {
  for (const source of sources) {
    // replay stamps every message with the row's time, so a source must carry one
    const hasTime = source.timestamp?.path !== undefined || source.array?.ts !== undefined;
    if (!hasTime) continue;
    if (source.fields) {
      for (const f of source.fields) {
        const levels = f.tag.parse(tag);
        const topic = levels && fillTopic(source.pattern, levels);
        if (topic !== undefined && levels !== undefined && f.tag.fill(levels) === tag) return { source, topic, name: undefined, field: f.path };
      }
      continue;
    }
    const levels = source.tag.parse(tag);
    if (!levels) continue;
    const topic = fillTopic(source.pattern, levels);
    if (topic === undefined) continue;
    const multi = source.object !== undefined || source.array !== undefined;
    if (multi && levels['name'] === undefined) continue;
    return { source, topic, name: multi ? levels['name'] : undefined, field: undefined };
  }
  return undefined;
}

/** The messages of one row: one per topic, tags in the order given (validity flags first). */
export function rowMessages(plan: ReturnType<typeof planPlantMessages>, values: readonly { tag: string; value: number }[], ts: number): PlantMessage[] {
  const messages = new Map<string, { source: CompiledSource; body: Record<string, unknown>; items: unknown[] }>();
  for (const { tag, value } of values) {
    const route = plan.route(tag);
    if (!route) continue;
    const { source } = route;
    let m = messages.get(route.topic);
    if (!m) {
      m = { source, body: {}, items: [] };
      if (source.timestamp?.path) writePath(m.body, source.timestamp.path, formatTime(ts, source.timestamp.format, source.timestamp.zone));
      messages.set(route.topic, m);
    }
    if (source.value !== undefined) writePath(m.body, source.value, value);
    else if (route.field) writePath(m.body, route.field, value);
    else if (source.object) writePath(m.body, [...source.object, route.name ?? tag], value);
    else if (source.array) {
      const item: Record<string, unknown> = {};
      writePath(item, source.array.tag, route.name);
      writePath(item, source.array.value, value);
      if (source.array.ts) writePath(item, source.array.ts, formatTime(ts, source.timestamp?.format ?? 'iso', source.timestamp?.zone));
      m.items.push(item);
    } else m.body = { bare: value };
  }
  const out: PlantMessage[] = [];
  for (const [topic, m] of messages) {
    if (m.source.array) writePath(m.body, m.source.array.path, m.items);
    const bare = m.source.value === undefined && !m.source.fields && !m.source.object && !m.source.array;
    out.push({ topic, payload: bare ? String(m.body['bare']) : JSON.stringify(m.body) });
  }
  return out;
}
