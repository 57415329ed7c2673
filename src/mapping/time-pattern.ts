/**
 * Timestamps in a historian's own layout, written as a pattern of tokens: `DD.MM.YYYY hh:mm[:ss]`,
 * `MM/DD/YYYY h:mm:ss A`, `YYYY-MM-DD hh:mm:ss.SSS`. YYYY year; MM month, DD day, hh hour (00-23),
 * h hour (1-12, with A), mm minute, ss second: one or two digits each, as exports drop leading zeros;
 * SSS a fraction of a second (1 to 9 digits, whole milliseconds kept); A AM or PM (any case); `[...]`
 * an optional part; anything else is itself. The text is wall-clock time of the map's `timezone`.
 */
const TOKENS = ['YYYY', 'SSS', 'MM', 'DD', 'hh', 'mm', 'ss', 'h', 'A'] as const;
type Token = (typeof TOKENS)[number];
const GROUP: Record<Token, string> = { YYYY: '(\\d{4})', SSS: '(\\d{1,9})', MM: '(\\d{1,2})', DD: '(\\d{1,2})', hh: '(\\d{1,2})', mm: '(\\d{1,2})', ss: '(\\d{1,2})', h: '(\\d{1,2})', A: '([AaPp][Mm])' };

export interface TimePattern {
  /** Wall-clock ms (as if UTC) of a text in the pattern; NaN when it is not one, or no real date. */
  parse(text: string): number;
  /** A wall-clock time (ms, as if UTC) written in the pattern, every optional part included. */
  format(wallMs: number): string;
}

interface Piece {
  readonly token?: Token;
  readonly text?: string;
  readonly optional: boolean;
}

function pieces(pattern: string): Piece[] | string {
  const out: Piece[] = [];
  let optional = false;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] ?? '';
    if (c === '[' || c === ']') {
      if ((c === '[') === optional) return `unbalanced ${c} at ${i + 1}`;
      optional = c === '[';
      i += 1;
      continue;
    }
    const token = TOKENS.find((t) => pattern.startsWith(t, i));
    if (token) {
      out.push({ token, optional });
      i += token.length;
    } else {
      out.push({ text: c, optional });
      i += 1;
    }
  }
  return optional ? 'an [ is not closed' : out;
}

/** Why `pattern` is no usable time pattern, or undefined when it is one. */
export function timePatternError(pattern: string): string | undefined {
  const parsed = pieces(pattern);
  if (typeof parsed === 'string') return parsed;
  const tokens = parsed.filter((p) => p.token && !p.optional).map((p) => p.token);
  for (const need of ['YYYY', 'MM', 'DD', 'mm'] as const) if (!tokens.includes(need)) return `no ${need} in "${pattern}"`;
  const all = parsed.flatMap((p) => (p.token ? [p.token] : []));
  if (!all.includes('hh') && !all.includes('h')) return `no hour (hh, or h with A) in "${pattern}"`;
  if (all.includes('h') !== all.includes('A')) return `h (1-12) and A (AM/PM) go together in "${pattern}"`;
  if (new Set(all).size !== all.length) return `a token twice in "${pattern}"`;
  return undefined;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const compiled = new Map<string, TimePattern>();

/** The compiled pattern (cached); throws on one that timePatternError refuses. */
export function timePattern(pattern: string): TimePattern {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  const error = timePatternError(pattern);
  if (error) throw new Error(error);
  const parts = pieces(pattern) as Piece[];
  const order: Token[] = [];
  let source = '';
  let inOptional = false;
  for (const p of parts) {
    if (p.optional && !inOptional) source += '(?:';
    if (!p.optional && inOptional) source += ')?';
    inOptional = p.optional;
    if (p.token) {
      order.push(p.token);
      source += GROUP[p.token];
    } else source += escape(p.text ?? '');
  }
  if (inOptional) source += ')?';
  const regex = new RegExp(`^${source}$`);
  const result: TimePattern = {
    parse(text) {
      const m = regex.exec(text.trim());
      if (!m) return Number.NaN;
      const v: Partial<Record<Token, string>> = {};
      order.forEach((t, i) => {
        const g = m[i + 1];
        if (g !== undefined) v[t] = g;
      });
      const year = Number(v.YYYY);
      const month = Number(v.MM);
      const day = Number(v.DD);
      let hour = Number(v.hh ?? v.h ?? 0);
      if (v.A !== undefined) {
        if (hour < 1 || hour > 12) return Number.NaN;
        hour = (hour % 12) + (v.A.toUpperCase() === 'PM' ? 12 : 0);
      }
      const minute = Number(v.mm ?? 0);
      const second = Number(v.ss ?? 0);
      const ms = v.SSS ? Number(v.SSS.padEnd(3, '0').slice(0, 3)) : 0;
      if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
      const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
      const check = new Date(wall);
      return check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day ? wall : Number.NaN;
    },
    format(wallMs) {
      const d = new Date(wallMs);
      const two = (n: number): string => String(n).padStart(2, '0');
      const h24 = d.getUTCHours();
      const value: Record<Token, string> = {
        YYYY: String(d.getUTCFullYear()).padStart(4, '0'),
        MM: two(d.getUTCMonth() + 1),
        DD: two(d.getUTCDate()),
        hh: two(h24),
        h: String(h24 % 12 === 0 ? 12 : h24 % 12),
        A: h24 < 12 ? 'AM' : 'PM',
        mm: two(d.getUTCMinutes()),
        ss: two(d.getUTCSeconds()),
        SSS: String(d.getUTCMilliseconds()).padStart(3, '0'),
      };
      return parts.map((p) => (p.token ? value[p.token] : (p.text ?? ''))).join('');
    },
  };
  compiled.set(pattern, result);
  return result;
}
