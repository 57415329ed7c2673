/**
 * Topic-match caches for aedes' routing. Every inbound publish is matched against the subscriptions
 * twice at QoS 1 (aedes' emitter for online delivery, the persistence for offline queues) and once at
 * QoS 0; PLCs publish the same few hundred topics over and over, so the matches are remembered per
 * topic. Any subscription change clears them, before it takes effect and again when it completed, so a
 * match is never older than the subscriptions. Bounded: past MAX_TOPICS the cache starts again.
 *
 * Both hook into the objects aedes builds (its mqemitter's matcher, its persistence instance) and check
 * their shape first: anything unexpected leaves them untouched (only the speed-up is lost).
 */
const MAX_TOPICS = 4096;

interface Matcher {
  match(topic: string, ctx?: unknown): unknown[];
  add(topic: string, value: unknown): unknown;
  remove(topic: string, value?: unknown): unknown;
  clear(): unknown;
}

function isMatcher(value: unknown): value is Matcher {
  const m = value as Partial<Record<keyof Matcher, unknown>> | null;
  return typeof m === 'object' && m !== null && ['match', 'add', 'remove', 'clear'].every((k) => typeof m[k as keyof Matcher] === 'function');
}

/** Caches `mq._matcher.match`; returns false when the emitter does not have the expected shape. */
export function cacheEmitterMatches(mq: unknown): boolean {
  const matcher = (mq as { _matcher?: unknown } | null)?._matcher;
  if (!isMatcher(matcher)) return false;
  const match = matcher.match.bind(matcher);
  const add = matcher.add.bind(matcher);
  const remove = matcher.remove.bind(matcher);
  const clear = matcher.clear.bind(matcher);
  const cache = new Map<string, readonly unknown[]>();
  // mqemitter only iterates the result (fastparallel); a copy per call keeps the cached list intact anyway.
  matcher.match = (topic: string, ctx?: unknown): unknown[] => {
    if (ctx !== undefined) return match(topic, ctx);
    let found = cache.get(topic);
    if (found === undefined) {
      found = match(topic);
      if (cache.size >= MAX_TOPICS) cache.clear();
      cache.set(topic, found);
    }
    return found.length === 0 ? [] : found.slice();
  };
  matcher.add = (topic, value) => {
    cache.clear();
    return add(topic, value);
  };
  matcher.remove = (topic, value) => {
    cache.clear();
    return value === undefined ? remove(topic) : remove(topic, value);
  };
  matcher.clear = () => {
    cache.clear();
    return clear();
  };
  return true;
}

type Subscriptions = readonly unknown[];

interface Persistence {
  subscriptionsByTopic(topic: string, cb?: (error: Error | null, subs?: Subscriptions) => void): unknown;
  addSubscriptions(...args: unknown[]): unknown;
  removeSubscriptions(...args: unknown[]): unknown;
  cleanSubscriptions(...args: unknown[]): unknown;
}

const CHANGES = ['addSubscriptions', 'removeSubscriptions', 'cleanSubscriptions'] as const;

function isPersistence(value: unknown): value is Persistence {
  const p = value as Partial<Record<keyof Persistence, unknown>> | null;
  return typeof p === 'object' && p !== null && typeof p.subscriptionsByTopic === 'function' && CHANGES.every((k) => typeof p[k] === 'function');
}

/**
 * Caches the promise form of `persistence.subscriptionsByTopic` (the one aedes' publish path uses);
 * the callback form and every subscription change go through unchanged. Returns false when the
 * persistence does not have the expected shape.
 */
export function cachePersistenceMatches(persistence: unknown): boolean {
  if (!isPersistence(persistence)) return false;
  const byTopic = persistence.subscriptionsByTopic.bind(persistence);
  const cache = new Map<string, Promise<Subscriptions>>();
  persistence.subscriptionsByTopic = ((topic: string, cb?: (error: Error | null, subs?: Subscriptions) => void) => {
    if (cb) return byTopic(topic, cb);
    let found = cache.get(topic);
    if (found === undefined) {
      found = (byTopic(topic) as Promise<Subscriptions>).then((subs) => Object.freeze([...subs]));
      // A failed lookup is not remembered.
      found.catch(() => cache.delete(topic));
      if (cache.size >= MAX_TOPICS) cache.clear();
      cache.set(topic, found);
    }
    return found;
  }) as Persistence['subscriptionsByTopic'];
  for (const name of CHANGES) {
    const change = persistence[name].bind(persistence);
    persistence[name] = (...args: unknown[]): unknown => {
      cache.clear();
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        // Callback form: cleared again when it calls back.
        return change(...args.slice(0, -1), (...reply: unknown[]) => {
          cache.clear();
          (last as (...r: unknown[]) => void)(...reply);
        });
      }
      const result = change(...args);
      return result instanceof Promise ? result.finally(() => cache.clear()) : result;
    };
  }
  return true;
}
