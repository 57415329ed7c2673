import type { Clock } from '../lib/clock.js';

/**
 * Per-client publish rate: a token bucket holding at most one second of the allowed rate, so a short
 * burst passes at once and a sustained flood is slowed to the configured rate.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = ratePerSecond;
    this.last = now;
  }

  take(now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.ratePerSecond, this.tokens + (elapsed * this.ratePerSecond) / 1000);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until the next token (at least 1). */
  waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}

/**
 * Back-pressure for one client over its publish rate: publishes past the bucket wait here, in order,
 * until a token comes. The broker reads the client's socket again only once every publish of the last
 * read was let through, so a client that publishes too fast is slowed (its socket and, over TCP, the
 * client itself wait) and none of its publishes is refused or acknowledged unstored.
 */
export class PublishThrottle {
  private readonly bucket: TokenBucket;
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private timer: { clear(): void } | undefined;

  constructor(
    ratePerSecond: number,
    private readonly clock: Clock,
  ) {
    this.bucket = new TokenBucket(ratePerSecond, clock.now());
  }

  /** Publishes waiting for a token. */
  get size(): number {
    return this.waiting.length - this.head;
  }

  /** Runs `proceed` now when a token is free and nothing waits, else later in order; true when it had to wait. */
  admit(proceed: () => void): boolean {
    if (this.size === 0 && this.bucket.take(this.clock.now())) {
      proceed();
      return false;
    }
    this.waiting.push(proceed);
    this.schedule();
    return true;
  }

  /** Drops every waiting publish, calling `each` with it (client gone, intake closed). */
  clear(each: (proceed: () => void) => void): void {
    this.timer?.clear();
    this.timer = undefined;
    const dropped = this.waiting.slice(this.head);
    this.waiting.length = 0;
    this.head = 0;
    dropped.forEach(each);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const now = this.clock.now();
      while (this.size > 0 && this.bucket.take(now)) {
        const next = this.waiting[this.head] as () => void;
        this.head += 1;
        next();
      }
      if (this.size === 0) {
        this.waiting.length = 0;
        this.head = 0;
      } else this.schedule();
    }, this.bucket.waitMs());
  }
}

/** Whether an MQTT topic filter (with `+` and `#`) matches a topic name (MQTT 3.1.1 section 4.7). */
export function filterMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match `$` topics.
  if ((filter.startsWith('+') || filter.startsWith('#')) && topic.startsWith('$')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * The QoS one copy of a message may go to a client at: the publish QoS, at most the highest QoS of
 * the client's subscriptions that match it (MQTT 3.1.1 sections 3.3.5 and 3.8.4).
 */
export function grantedQos(subscriptions: Readonly<Record<string, { qos?: number }>>, topic: string, published: 0 | 1 | 2): 0 | 1 | 2 {
  let highest: 0 | 1 | 2 = 0;
  for (const filter in subscriptions) {
    const qos = Math.min(2, Math.max(0, subscriptions[filter]?.qos ?? 0)) as 0 | 1 | 2;
    if (qos > highest && filterMatches(filter, topic)) highest = qos;
    if (highest >= published) return published;
  }
  return highest;
}

/** Number of `/`-separated levels, as MQTT counts them. */
export function topicLevels(topic: string): number {
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  return levels;
}
