/**
 * MQTT topic patterns with named levels, as Telegraf's mqtt_consumer parses topics:
 * `plant/+line/zone7/+tag` matches `plant/ab3/zone7/ammonia` with `{line: "ab3", tag: "ammonia"}`.
 * `+` alone matches one level unnamed, `#` (or `#name`) the rest of the topic, last only.
 */
type Level = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'one'; readonly name: string | undefined } | { readonly kind: 'rest'; readonly name: string | undefined };

export interface TopicPattern {
  readonly source: string;
  readonly levels: readonly Level[];
  /** The pattern as an MQTT subscription filter (names dropped). */
  readonly filter: string;
  readonly names: readonly string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a pattern, or returns why it is not one. */
export function parsePattern(source: string): TopicPattern | { readonly error: string } {
  if (source === '') return { error: 'empty topic pattern' };
  const parts = source.split('/');
  const levels: Level[] = [];
  const names: string[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const wildcard = part.startsWith('+') ? 'one' : part.startsWith('#') ? 'rest' : undefined;
    if (wildcard === undefined) {
      if (part.includes('+') || part.includes('#')) return { error: `level "${part}": + and # start a level` };
      levels.push({ kind: 'literal', text: part });
      continue;
    }
    const name = part.slice(1) || undefined;
    if (name !== undefined && !NAME.test(name)) return { error: `level "${part}": a level name is letters, digits and _` };
    if (name !== undefined && names.includes(name)) return { error: `level name ${name} used twice` };
    if (wildcard === 'rest' && i !== parts.length - 1) return { error: '# must be the last level' };
    if (name !== undefined) names.push(name);
    levels.push({ kind: wildcard, name });
  }
  const filter = levels.map((l) => (l.kind === 'literal' ? l.text : l.kind === 'one' ? '+' : '#')).join('/');
  return { source, levels, filter, names };
}

/** The named levels of `topic` if it matches, else undefined. */
export function matchTopic(pattern: TopicPattern, topic: string): Record<string, string> | undefined {
  const parts = topic.split('/');
  const out: Record<string, string> = {};
  const { levels } = pattern;
  for (let i = 0; i < levels.length; i += 1) {
    const level = levels[i]!;
    if (level.kind === 'rest') {
      if (i > parts.length) return undefined;
      if (level.name !== undefined) out[level.name] = parts.slice(i).join('/');
      return out;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (level.kind === 'literal') {
      if (part !== level.text) return undefined;
    } else {
      // MQTT: a wildcard level matches any text, the empty level too, but never a $ topic's first level
      if (i === 0 && part.startsWith('$')) return undefined;
      if (level.name !== undefined) out[level.name] = part;
    }
  }
  return parts.length === levels.length ? out : undefined;
}

/** The topic a pattern gives for these level values, or undefined when a wildcard has no value. */
export function fillTopic(pattern: TopicPattern, values: Readonly<Record<string, string>>): string | undefined {
  const out: string[] = [];
  for (const level of pattern.levels) {
    if (level.kind === 'literal') {
      out.push(level.text);
      continue;
    }
    const value = level.name === undefined ? undefined : values[level.name];
    if (value === undefined || value === '' || (level.kind === 'one' && value.includes('/')) || /[+#]/.test(value)) return undefined;
    out.push(value);
  }
  return out.join('/');
}

/**
 * A tag-name template: text with `{name}` placeholders, e.g. `{line}_{tag}`. `fill` puts values in,
 * `parse` takes a tag name apart again (for replay, which publishes tags through the pattern).
 */
export interface Template {
  readonly source: string;
  readonly names: readonly string[];
  fill(values: Readonly<Record<string, string>>): string | undefined;
  parse(text: string): Record<string, string> | undefined;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function parseTemplate(source: string): Template {
  const names: string[] = [];
  let regex = '^';
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    regex += escapeRegex(source.slice(last, m.index));
    const name = m[1]!;
    // a name used twice must read the same text both times
    regex += names.includes(name) ? `\\k<${name}>` : `(?<${name}>.+?)`;
    names.push(name);
    last = m.index + m[0].length;
  }
  regex += `${escapeRegex(source.slice(last))}$`;
  const compiled = new RegExp(regex);
  const unique = [...new Set(names)];
  return {
    source,
    names: unique,
    fill(values) {
      let missing = false;
      const text = source.replace(PLACEHOLDER, (_m, name: string) => {
        const v = values[name];
        if (v === undefined) missing = true;
        return v ?? '';
      });
      return missing ? undefined : text;
    },
    parse(text) {
      const m = compiled.exec(text);
      return m ? { ...(m.groups ?? {}) } : undefined;
    },
  };
}

/** The MQTT subscription filter of a pattern (its level names dropped); the text itself if it is none. */
export function plantTopicFilter(source: string): string {
  const parsed = parsePattern(source);
  return 'error' in parsed ? source : parsed.filter;
}
