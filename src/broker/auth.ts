import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { RESERVED_SEGMENTS } from '../contract/topics.js';
import { matchTopic, parsePattern, type TopicPattern } from '../mapping/pattern.js';

export type Role = 'plc' | 'hmi' | 'viewer';

const KEY_LENGTH = 32;
const SCRYPT_OPTIONS: ScryptOptions = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function scryptAsync(password: string, salt: Buffer, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, SCRYPT_OPTIONS, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** `scrypt$<salt hex>$<key hex>`, the format of broker.embedded.users[].passwordHash. */
export async function hashPassword(plain: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(plain, salt, KEY_LENGTH);
  return `scrypt$${salt.toString('hex')}$${key.toString('hex')}`;
}

/** Constant-time check of a password against a `hashPassword` result; false for a malformed hash. */
export async function verifyPassword(plain: string, passwordHash: string): Promise<boolean> {
  const parts = passwordHash.split('$');
  if (parts.length !== 3 || parts[0] !== 'scrypt' || !parts[1] || !parts[2]) return false;
  const salt = Buffer.from(parts[1], 'hex');
  const expected = Buffer.from(parts[2], 'hex');
  if (expected.length === 0) return false;
  const key = await scryptAsync(plain, salt, expected.length);
  return timingSafeEqual(key, expected);
}

const RESERVED = new Set<string>(RESERVED_SEGMENTS);

/**
 * Who may publish where (embedded broker). Readings and Sparkplug for PLCs, `hmi/#` for HMIs,
 * nothing for viewers; the daemon's own outputs (setpoints, predictions, indicators, anomalies,
 * alarms, status, dead letters) are never writable by clients, whatever the role.
 */
export function mayPublish(role: Role, topic: string, site: string, plantTopics: readonly TopicPattern[] = []): boolean {
  if (role === 'viewer') return false;
  const prefix = `wwtp/${site}/`;
  if (role === 'plc') {
    if (topic.startsWith('spBv1.0/')) return true;
    if (!topic.startsWith('wwtp/') && plantTopics.some((p) => matchTopic(p, topic) !== undefined)) return true;
    if (!topic.startsWith(prefix)) return false;
    const rest = topic.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || rest.indexOf('/', slash + 1) !== -1 || slash === rest.length - 1) return false;
    return !RESERVED.has(rest.slice(0, slash)) && !RESERVED.has(rest.slice(slash + 1));
  }
  return topic.startsWith(`${prefix}hmi/`) && topic.length > prefix.length + 4;
}

/** Every role reads everything except the broker's own `$` topics. */
export function maySubscribe(_role: Role, topicFilter: string): boolean {
  return !topicFilter.startsWith('$');
}

/** The plant topic filters as patterns for `mayPublish`; a filter that is no pattern is left out. */
export function plantTopicPatterns(filters: readonly string[] = []): TopicPattern[] {
  return filters.map(parsePattern).filter((p): p is TopicPattern => !('error' in p));
}
