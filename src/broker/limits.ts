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

/** Number of `/`-separated levels, as MQTT counts them. */
export function topicLevels(topic: string): number {
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  return levels;
}
