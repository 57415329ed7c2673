/**
 * Per-client publish rate limit: a token bucket holding at most one second of the allowed rate, so a
 * short burst passes and a sustained flood is cut to the configured rate.
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
}

/** Number of `/`-separated levels, as MQTT counts them. */
export function topicLevels(topic: string): number {
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) levels++;
  return levels;
}
