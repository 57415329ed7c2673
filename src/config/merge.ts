/**
 * Overlays config layers (default.yaml, the site file, each WWTP_EDGE_* variable, a programmatic
 * override) into one tree and remembers which layer set each value, so that every error can name its
 * source. Mappings merge key by key. Lists of entries with ids merge by id (KEYED_LISTS): an entry
 * whose id is already there changes only the fields it sets, a new id is appended, and an entry with
 * `remove: true` and only its id fields removes what it matches (`{stage: membrane, remove: true}` in
 * `signals`: the whole stage). Other lists are replaced whole.
 */

export type ConfigPath = readonly (string | number)[];

export interface RawIssue {
  readonly path: ConfigPath;
  readonly message: string;
  /** Set when the issue belongs to one layer; its path is then a place in that layer, not in the merged tree. */
  readonly source?: string;
}

type Tree = Record<string, unknown>;
export const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Lists merged by id: path (names only) -> the fields that identify an entry. */
export const KEYED_LISTS: Readonly<Record<string, readonly string[]>> = {
  signals: ['stage', 'id'],
  'control.loops': ['id'],
  'alarms.limits': ['stage', 'signal'],
  'ingest.sparkplug.metrics': ['group', 'node', 'device', 'metric'],
  'broker.embedded.users': ['username'],
  'models.sensorChecks.flowBalances': ['id'],
  'models.sensorChecks.speciesSums': ['id'],
  'models.sensorChecks.loopDeviations': ['loop'],
  'models.sensorChecks.levelShifts': ['id'],
  'tags.points': ['tag'],
  'tags.mqtt': ['topic'],
};

/** Id fields an entry may leave out (Sparkplug metrics without group or device). */
const OPTIONAL_KEYS: Readonly<Record<string, readonly string[]>> = { 'ingest.sparkplug.metrics': ['group', 'device'] };

/** Lists of plain strings merged as sets; `{signal: X, remove: true}` removes X. */
export const SET_LISTS: Readonly<Record<string, string>> = { 'models.sensorChecks.actuated': 'signal' };

export type ConfigNode =
  | { readonly kind: 'leaf'; readonly value: unknown; readonly source: string }
  | { readonly kind: 'tree'; readonly source: string; readonly kids: ReadonlyMap<string, ConfigNode> }
  | { readonly kind: 'list'; readonly source: string; readonly items: readonly ConfigNode[] };

export interface Layer {
  /** The file or variable that holds the layer, named in errors. */
  readonly source: string;
  readonly tree: unknown;
}

function fromValue(value: unknown, source: string): ConfigNode {
  if (Array.isArray(value)) return { kind: 'list', source, items: value.map((v) => fromValue(v, source)) };
  if (isTree(value)) return { kind: 'tree', source, kids: new Map(Object.entries(value).map(([k, v]) => [k, fromValue(v, source)])) };
  return { kind: 'leaf', value, source };
}

export function toValue(node: ConfigNode): unknown {
  if (node.kind === 'leaf') return node.value;
  if (node.kind === 'list') return node.items.map(toValue);
  return Object.fromEntries([...node.kids].map(([k, v]) => [k, toValue(v)]));
}

/** The scalar under `key` of a mapping node (an entry's id field). */
function leafOf(node: ConfigNode | undefined, key: string): unknown {
  const kid = node?.kind === 'tree' ? node.kids.get(key) : undefined;
  return kid?.kind === 'leaf' ? kid.value : undefined;
}

/** The id of a list entry as it is written in paths: `membrane/tmp`, `do`. */
export function entryKey(fields: readonly string[], entry: (field: string) => unknown): string {
  return fields
    .map((f) => entry(f))
    .filter((v) => v !== undefined)
    .map(String)
    .join('/');
}

interface MergeContext {
  readonly source: string;
  readonly issues: RawIssue[];
}

function merge(base: ConfigNode | undefined, top: unknown, path: readonly string[], at: ConfigPath, ctx: MergeContext): ConfigNode {
  if (top === undefined) return base ?? fromValue(top, ctx.source);
  const name = path.join('.');
  const keyed = KEYED_LISTS[name];
  if (keyed && Array.isArray(top)) return mergeKeyed(base, top, keyed, OPTIONAL_KEYS[name] ?? [], path, at, ctx);
  const setField = SET_LISTS[name];
  if (setField && Array.isArray(top)) return mergeSet(base, top, setField, at, ctx);
  if (isTree(top)) {
    const baseKids = base?.kind === 'tree' ? base.kids : new Map<string, ConfigNode>();
    const kids = new Map(baseKids);
    for (const [key, value] of Object.entries(top)) kids.set(key, merge(baseKids.get(key), value, [...path, key], [...at, key], ctx));
    // a tree keeps the layer that created it: a key missing from it is that layer's omission
    return { kind: 'tree', source: base?.kind === 'tree' ? base.source : ctx.source, kids };
  }
  return fromValue(top, ctx.source);
}

function mergeKeyed(base: ConfigNode | undefined, top: readonly unknown[], fields: readonly string[], optional: readonly string[], path: readonly string[], at: ConfigPath, ctx: MergeContext): ConfigNode {
  let items: ConfigNode[] = base?.kind === 'list' ? [...base.items] : [];
  const required = fields.filter((f) => !optional.includes(f));
  const keyOfNode = (node: ConfigNode): string => entryKey(fields, (f) => leafOf(node, f));
  const written = new Set<string>();
  top.forEach((entry, i) => {
    const here = [...at, i];
    if (!isTree(entry)) {
      ctx.issues.push({ path: here, message: `entry ${i + 1}: expected a mapping with ${required.join(' and ')}`, source: ctx.source });
      return;
    }
    if (entry['remove'] !== undefined) {
      if (entry['remove'] !== true) {
        ctx.issues.push({ path: [...here, 'remove'], message: `entry ${i + 1}: remove must be true (or left out)`, source: ctx.source });
        return;
      }
      const extra = Object.keys(entry).filter((k) => k !== 'remove' && !fields.includes(k));
      const given = fields.filter((f) => entry[f] !== undefined);
      if (extra.length > 0 || given.length === 0) {
        ctx.issues.push({ path: here, message: `entry ${i + 1}: a removal names only ${fields.join('/')} and remove: true${extra.length ? `, not ${extra.join(', ')}` : ''}`, source: ctx.source });
        return;
      }
      const matches = (node: ConfigNode): boolean => given.every((f) => leafOf(node, f) === entry[f]);
      const kept = items.filter((node) => !matches(node));
      if (kept.length === items.length) {
        ctx.issues.push({ path: here, message: `removes ${entryKey(given, (f) => entry[f])}, which is not configured`, source: ctx.source });
        return;
      }
      items = kept;
      return;
    }
    const missing = required.filter((f) => typeof entry[f] !== 'string');
    if (missing.length > 0) {
      ctx.issues.push({ path: here, message: `entry ${i + 1}: ${missing.join(' and ')} must be given (entries are matched by ${required.join(' and ')})`, source: ctx.source });
      return;
    }
    const key = entryKey(fields, (f) => entry[f]);
    if (written.has(key)) {
      ctx.issues.push({ path: here, message: `entry ${i + 1}: ${key} appears twice in this list`, source: ctx.source });
      return;
    }
    written.add(key);
    const index = items.findIndex((node) => keyOfNode(node) === key);
    if (index >= 0) items[index] = merge(items[index], entry, path, here, ctx);
    else items.push(fromValue(entry, ctx.source));
  });
  return { kind: 'list', source: base?.kind === 'list' ? base.source : ctx.source, items };
}

function mergeSet(base: ConfigNode | undefined, top: readonly unknown[], field: string, at: ConfigPath, ctx: MergeContext): ConfigNode {
  let items: ConfigNode[] = base?.kind === 'list' ? [...base.items] : [];
  const valueOf = (node: ConfigNode): unknown => (node.kind === 'leaf' ? node.value : undefined);
  top.forEach((entry, i) => {
    if (isTree(entry)) {
      const target = entry[field];
      if (entry['remove'] !== true || typeof target !== 'string' || Object.keys(entry).length !== 2) {
        ctx.issues.push({ path: [...at, i], message: `entry ${i + 1}: expected a string, or {${field}: X, remove: true} to remove X`, source: ctx.source });
        return;
      }
      const kept = items.filter((node) => valueOf(node) !== target);
      if (kept.length === items.length) ctx.issues.push({ path: [...at, i], message: `removes ${target}, which is not listed`, source: ctx.source });
      items = kept;
      return;
    }
    if (!items.some((node) => valueOf(node) === entry)) items.push(fromValue(entry, ctx.source));
  });
  return { kind: 'list', source: ctx.source, items };
}

export interface Merged {
  readonly root: ConfigNode;
  readonly tree: unknown;
  readonly issues: readonly RawIssue[];
}

/** Overlays the layers in order; the last one wins. */
export function mergeLayers(layers: readonly Layer[]): Merged {
  const issues: RawIssue[] = [];
  let root: ConfigNode = { kind: 'tree', source: layers[0]?.source ?? 'config', kids: new Map() };
  for (const layer of layers) {
    if (!isTree(layer.tree)) {
      issues.push({ path: [], message: 'expected a mapping of keys at the top level', source: layer.source });
      continue;
    }
    root = merge(root, layer.tree, [], [], { source: layer.source, issues });
  }
  return { root, tree: toValue(root), issues };
}

/** The layer that set the value at `path`, or the closest enclosing value it set. */
export function sourceAt(root: ConfigNode, path: ConfigPath): string {
  let node: ConfigNode = root;
  for (const step of path) {
    const next: ConfigNode | undefined = node.kind === 'tree' ? node.kids.get(String(step)) : node.kind === 'list' && typeof step === 'number' ? node.items[step] : undefined;
    if (!next) break;
    node = next;
  }
  return node.source;
}

/** `control.loops[do].feedback`, `signals[membrane/tmp].max`: list entries named by their id where they have one. */
export function renderPath(root: ConfigNode, path: ConfigPath): string {
  if (path.length === 0) return '(root)';
  return renderIn(root, path);
}

/** A place in one layer's own tree: the keys, without list positions (the message says which entry). */
export function renderLayerPath(path: ConfigPath): string {
  const names = path.filter((p) => typeof p === 'string');
  return names.length ? names.join('.') : '(root)';
}

function renderIn(root: ConfigNode, path: ConfigPath): string {
  let node: ConfigNode | undefined = root;
  const names: string[] = [];
  let out = '';
  for (const step of path) {
    const fields = KEYED_LISTS[names.join('.')];
    const item: ConfigNode | undefined = node?.kind === 'list' && typeof step === 'number' ? node.items[step] : undefined;
    if (fields && item) {
      const key = entryKey(fields, (f) => leafOf(item, f));
      out += `[${key}]`;
      node = item;
      continue;
    }
    if (SET_LISTS[names.join('.')] && item?.kind === 'leaf' && typeof item.value === 'string') {
      out += `[${item.value}]`;
      node = item;
      continue;
    }
    if (typeof step === 'number') {
      out += `.${step}`;
      node = node?.kind === 'list' ? node.items[step] : undefined;
      continue;
    }
    names.push(step);
    out += out ? `.${step}` : step;
    node = node?.kind === 'tree' ? node.kids.get(step) : undefined;
  }
  return out;
}
