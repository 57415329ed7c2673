import { isStage } from '../contract/plant.js';
import type { SignalConfig } from '../config/sections/plant.js';
import type { CompiledSource, TagMap } from '../mapping/tag-map.js';
import type { SignalEntry } from './validate.js';

/** Where a topic goes. Readings of configured signals are found by one Map lookup. */
export type Route =
  | { readonly kind: 'reading'; readonly entry: SignalEntry }
  | { readonly kind: 'hmi'; readonly path: readonly string[] }
  | { readonly kind: 'sparkplug' }
  /** A plant's own topic that a `tags.mqtt` pattern matches, with its named levels. */
  | { readonly kind: 'mapped'; readonly source: CompiledSource; readonly levels: Readonly<Record<string, string>> }
  /** The daemon's own outputs, received back through a `wwtp/{site}/#`-style subscription. */
  | { readonly kind: 'own' }
  | { readonly kind: 'unknown'; readonly reason: 'unknown_topic' | 'unknown_signal' | 'unmapped'; readonly detail: string };
export type RouteKind = Route['kind'];

const OWN_TOP_LEVEL = new Set(['edge', 'alarms', 'anomaly']);
const OWN_STAGE_LEVEL = new Set(['setpoint', 'prediction', 'indicator']);
const SPARKPLUG: Route = { kind: 'sparkplug' };
const OWN: Route = { kind: 'own' };
/** Verdicts kept for plant topics (PLCs publish the same few hundred over and over); then cleared. */
const MAX_CACHED_TOPICS = 4096;

export function createRouter(
  site: string,
  signals: readonly SignalConfig[],
  tags?: TagMap,
): { route(topic: string): Route; entries: ReadonlyMap<string, SignalEntry> } {
  const prefix = `wwtp/${site}/`;
  const readings = new Map<string, Route>();
  const entries = new Map<string, SignalEntry>();
  for (const s of signals) {
    const entry: SignalEntry = { stage: s.stage, signal: s.id, min: s.min, max: s.max };
    readings.set(`${prefix}${s.stage}/${s.id}`, { kind: 'reading', entry });
    entries.set(`${s.stage}/${s.id}`, entry);
  }
  const cached = new Map<string, Route>();

  const analyse = (topic: string): Route => {
    if (topic.startsWith('spBv1.0/')) return SPARKPLUG;
    const rest = topic.startsWith(prefix) ? topic.slice(prefix.length).split('/') : undefined;
    const [first, second] = rest ?? [];
    // HMI commands and the daemon's own outputs stay what they are, whatever pattern would match them
    if (rest && first === 'hmi') return { kind: 'hmi', path: rest.slice(1) };
    if (rest && first !== undefined && ((rest.length === 2 && OWN_TOP_LEVEL.has(first)) || (rest.length === 3 && second !== undefined && isStage(first) && OWN_STAGE_LEVEL.has(second)))) return OWN;
    const mapped = tags?.match(topic);
    if (mapped) return { kind: 'mapped', source: mapped.source, levels: mapped.levels };
    if (!topic.startsWith('wwtp/')) return { kind: 'unknown', reason: 'unmapped', detail: 'no tags.mqtt pattern matches and not under wwtp/' };
    if (!rest) return { kind: 'unknown', reason: 'unknown_topic', detail: `not under ${prefix}` };
    if (rest.length === 2 && first !== undefined && isStage(first)) return { kind: 'unknown', reason: 'unknown_signal', detail: `no signal ${second ?? ''} configured in stage ${first}` };
    return { kind: 'unknown', reason: 'unknown_topic', detail: 'expected wwtp/{site}/{stage}/{signal}' };
  };

  const analyseCached = (topic: string): Route => {
    let route = cached.get(topic);
    if (route === undefined) {
      route = analyse(topic);
      if (cached.size >= MAX_CACHED_TOPICS) cached.clear();
      cached.set(topic, route);
    }
    return route;
  };

  return {
    entries,
    route: tags && tags.sources.length > 0 ? (topic) => readings.get(topic) ?? analyseCached(topic) : (topic) => readings.get(topic) ?? analyse(topic),
  };
}
