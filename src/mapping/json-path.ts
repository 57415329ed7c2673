/**
 * JSON field paths, the dotted subset of GJSON that Telegraf's json_v2 parser reads:
 * `v`, `data.value`, `points.0.v`; `\.` is a literal dot in a key; `''` or `@this` is the whole payload.
 */
export type JsonPath = readonly string[];

export function parseJsonPath(source: string): JsonPath {
  if (source === '' || source === '@this') return [];
  const keys: string[] = [];
  let key = '';
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      key += source[i + 1];
      i += 1;
    } else if (c === '.') {
      keys.push(key);
      key = '';
    } else key += c;
  }
  keys.push(key);
  return keys;
}

/** The value at `path`, or undefined when a step is missing. Array elements by their index. */
export function readPath(json: unknown, path: JsonPath): unknown {
  let node = json;
  for (const key of path) {
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(key)) return undefined;
      node = node[Number(key)];
    } else if (typeof node === 'object' && node !== null) {
      if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    } else return undefined;
  }
  return node;
}

/** Sets `value` at `path` in `target`, creating objects on the way (replay builds payloads with it). */
export function writePath(target: Record<string, unknown>, path: JsonPath, value: unknown): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
    else {
      const fresh: Record<string, unknown> = {};
      node[key] = fresh;
      node = fresh;
    }
  });
}
