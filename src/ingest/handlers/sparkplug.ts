import { get as getSparkplug } from 'sparkplug-payload';
import type { IngestConfig } from '../../config/sections/ingest.js';
import type { Reading } from '../../contract/reading.js';
import type { TagMap, TagSample } from '../../mapping/tag-map.js';
import type { Handler, IngestKit } from '../kit.js';
import type { Route } from '../router.js';
import { isRejection, validateReading, type SignalEntry } from '../validate.js';

const codec = getSparkplug('spBv1.0');
type Payload = ReturnType<NonNullable<typeof codec>['decodePayload']>;
type Metric = NonNullable<Payload['metrics']>[number];

/** Sparkplug's own metrics, present in every birth; not plant signals. */
const STANDARD_METRIC = /^(?:bdSeq$|Node Control\/|Device Control\/|Properties\/|Node Info\/|Device Info\/)/;
const REBIRTH_INTERVAL_MS = 10_000;

interface NodeState {
  readonly aliases: Map<number, string>;
  seq: number | undefined;
  /** The birth/death sequence of the node's current session (its NBIRTH's bdSeq metric). */
  bdSeq: number | undefined;
  lastRebirthRequest: number;
  /** Last value of each mapped signal, to mark it bad with the node's death. */
  readonly last: Map<SignalEntry, { value: number; device: string | undefined }>;
  /** Latest `ts` of any reading from the node: its death is dated after it. */
  lastTs: number;
}

interface Mapping {
  readonly group: string | undefined;
  readonly entry: SignalEntry | undefined;
  readonly name: string;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object' && value !== null && typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(): number }).toNumber();
  return undefined;
}

/**
 * Sparkplug B: births define aliases, data maps metrics to stage/signal through config
 * `ingest.sparkplug.metrics`, a seq gap or an unknown alias asks the node to rebirth, a death marks
 * the node's signals bad unless its bdSeq shows it belongs to an earlier session.
 */
export function createSparkplugHandler(
  config: IngestConfig['sparkplug'],
  entries: ReadonlyMap<string, SignalEntry>,
  /** Metrics that no `metrics` entry maps are plant tags of this name in config `tags.points` (units, validity). */
  tags?: TagMap,
): Handler<Extract<Route, { kind: 'sparkplug' }>> {
  const nodes = new Map<string, NodeState>();
  const mappings = new Map<string, Mapping[]>();
  for (const m of config.metrics) {
    const key = `${m.node}\u0000${m.device ?? ''}\u0000${m.metric}`;
    const list = mappings.get(key) ?? [];
    list.push({ group: m.group, entry: entries.get(`${m.stage}/${m.signal}`), name: `${m.stage}/${m.signal}` });
    mappings.set(key, list);
  }

  const nodeState = (key: string): NodeState => {
    let state = nodes.get(key);
    if (!state) {
      state = { aliases: new Map(), seq: undefined, bdSeq: undefined, lastRebirthRequest: -Infinity, last: new Map(), lastTs: -Infinity };
      nodes.set(key, state);
    }
    return state;
  };

  const requestRebirth = (kit: IngestKit, group: string, node: string, state: NodeState, now: number): void => {
    if (now - state.lastRebirthRequest < REBIRTH_INTERVAL_MS || !codec) return;
    state.lastRebirthRequest = now;
    kit.count('rebirth_request');
    const body = codec.encodePayload({ timestamp: now, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] });
    kit.publish(`spBv1.0/${group}/NCMD/${node}`, Buffer.from(body));
  };

  return (_route, topic, payload, ack, kit) => {
    const parts = topic.split('/');
    const [, group, type, node, device] = parts;
    if (group === 'STATE' || type === 'NCMD' || type === 'DCMD') {
      kit.count('ignored', 'sparkplug_command');
      return false;
    }
    if (!config.enabled || (config.group !== undefined && group !== config.group)) {
      kit.count('ignored', 'sparkplug_other_group');
      return false;
    }
    const isNode = type === 'NBIRTH' || type === 'NDATA' || type === 'NDEATH';
    const isDevice = type === 'DBIRTH' || type === 'DDATA' || type === 'DDEATH';
    if (!group || !node || (!isNode && !isDevice) || (isNode && parts.length !== 4) || (isDevice && (parts.length !== 5 || !device))) {
      kit.deadLetter(topic, payload, 'unknown_topic', 'expected spBv1.0/{group}/{type}/{node}[/{device}]');
      return false;
    }
    let decoded: Payload;
    try {
      if (!codec) throw new Error('Sparkplug B codec missing');
      decoded = codec.decodePayload(payload);
    } catch (error) {
      kit.deadLetter(topic, payload, 'sparkplug_decode', error instanceof Error ? error.message : 'decode failed');
      return false;
    }
    const now = kit.now();
    const nodeKey = `${group}/${node}`;
    const state = nodeState(nodeKey);
    const seq = toNumber(decoded.seq);
    const payloadTs = toNumber(decoded.timestamp);

    if (type === 'NDEATH') {
      // The broker sends a node's will when its old connection times out, which may be after the node
      // has reconnected and born again: a death whose bdSeq is not the current birth's is that old
      // session's and changes nothing.
      const deathBdSeq = bdSeqOf(decoded);
      if (state.bdSeq !== undefined && deathBdSeq !== undefined && deathBdSeq !== state.bdSeq) {
        kit.count('ignored', 'sparkplug_stale_death');
        return false;
      }
    }
    if (type === 'NDEATH' || type === 'DDEATH') {
      const deathDevice = type === 'DDEATH' ? device : undefined;
      // An NDEATH that came as the MQTT will carries the time its payload was built, at the node's
      // connect: a death dated before the node's last data would leave that data the latest, good.
      // Such a death is dated at its receipt instead, and always after the node's last reading.
      const ts = payloadTs !== undefined && payloadTs > state.lastTs ? payloadTs : Math.max(now, state.lastTs + 1);
      const bad: Reading[] = [];
      for (const [entry, last] of state.last) {
        if (type === 'DDEATH' && last.device !== deathDevice) continue;
        bad.push({ stage: entry.stage, signal: entry.signal, ts, value: last.value, quality: 'bad', receivedAt: now });
      }
      if (bad.length > 0) state.lastTs = ts;
      if (type === 'NDEATH') {
        state.seq = undefined;
        state.bdSeq = undefined;
        state.aliases.clear();
      }
      if (bad.length === 0) return false;
      kit.commit(bad, ack);
      return true;
    }

    if (type === 'NBIRTH') {
      state.aliases.clear();
      state.seq = seq;
      state.bdSeq = bdSeqOf(decoded);
    } else if (state.seq === undefined) {
      requestRebirth(kit, group, node, state, now);
      state.seq = seq;
    } else if (seq !== undefined) {
      const expected = (state.seq + 1) % 256;
      if (seq !== expected) {
        kit.count('seq_gap');
        requestRebirth(kit, group, node, state, now);
      }
      state.seq = seq;
    }

    const isBirth = type === 'NBIRTH' || type === 'DBIRTH';
    if ((decoded.metrics ?? []).length === 0) {
      // Births and data without a single metric carry nothing a plant could mean: recorded, not absorbed.
      kit.deadLetter(topic, payload, 'sparkplug_decode', `${type} without metrics${payload.length === 0 ? ' (empty payload)' : ''}`);
      return false;
    }
    const readings: Reading[] = [];
    const unknown: string[] = [];
    const tagged: TagSample[] = [];
    for (const metric of decoded.metrics ?? []) {
      const alias = toNumber(metric.alias);
      let name = metric.name ?? undefined;
      if (name && alias !== undefined && isBirth) state.aliases.set(alias, name);
      if (!name && alias !== undefined) name = state.aliases.get(alias);
      if (!name) {
        unknown.push(`alias ${alias ?? '?'}`);
        continue;
      }
      if (STANDARD_METRIC.test(name)) continue;
      const mapping = (mappings.get(`${node}\u0000${device ?? ''}\u0000${name}`) ?? []).find((m) => m.group === undefined || m.group === group);
      if (!mapping) {
        if (tags?.knows(name)) tagged.push({ tag: name, value: metric.isNull === true ? null : toNumber(metric.value), ts: toNumber(metric.timestamp) ?? payloadTs ?? now });
        else if (!isBirth) unknown.push(name);
        continue;
      }
      if (!mapping.entry) {
        kit.deadLetter(topic, payload, 'unknown_signal', `metric ${name} maps to ${mapping.name}, which is not configured`);
        continue;
      }
      const reading = metricReading(mapping.entry, metric, payloadTs, now, kit);
      if (isRejection(reading)) {
        kit.deadLetter(topic, payload, reading.reason, `metric ${name}: ${reading.detail}`);
        continue;
      }
      state.last.set(mapping.entry, { value: reading.value, device });
      if (reading.ts > state.lastTs) state.lastTs = reading.ts;
      readings.push(reading);
    }
    if (tags && tagged.length > 0) {
      const mapped = tags.map(tagged, now, kit.window);
      for (const r of mapped.rejections) kit.deadLetter(topic, payload, r.reason, r.detail);
      for (const reading of mapped.readings) {
        const entry = entries.get(`${reading.stage}/${reading.signal}`);
        if (entry) state.last.set(entry, { value: reading.value, device });
        if (reading.ts > state.lastTs) state.lastTs = reading.ts;
        readings.push(reading);
      }
    }
    if (unknown.length > 0) {
      kit.deadLetter(topic, payload, 'sparkplug_unknown_metric', unknown.slice(0, 20).join(', '));
      if (unknown.some((u) => u.startsWith('alias '))) requestRebirth(kit, group, node, state, now);
    }
    if (readings.length === 0) return false;
    kit.commit(readings, ack);
    return true;
  };
}

/** The `bdSeq` metric of a node birth or death, if it carries one. */
function bdSeqOf(payload: Payload): number | undefined {
  const metric = (payload.metrics ?? []).find((m) => m.name === 'bdSeq');
  return metric ? toNumber(metric.value) : undefined;
}

function metricReading(entry: SignalEntry, metric: Metric, payloadTs: number | undefined, now: number, kit: IngestKit) {
  if (metric.isNull === true || metric.value === null || metric.value === undefined) return { reason: 'wrong_type' as const, detail: 'null value' };
  const value = toNumber(metric.value);
  if (value === undefined) return { reason: 'wrong_type' as const, detail: `value of type ${metric.type ?? typeof metric.value}` };
  const ts = toNumber(metric.timestamp) ?? payloadTs ?? now;
  return validateReading(entry, value, ts, 'good', now, kit.window);
}
