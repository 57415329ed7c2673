import type { Clock } from '../lib/clock.js';

/**
 * Inbound messages handed to the ingest and not yet committed: shutdown waits for them (up to a
 * timeout) so that their acknowledgements still go out.
 */
export class InFlight {
  private held = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly clock: Clock) {}

  get count(): number {
    return this.held;
  }

  take(): void {
    this.held += 1;
  }

  readonly release = (): void => {
    this.held -= 1;
    if (this.held === 0 && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((w) => w());
    }
  };

  /** Resolves once nothing is held, or after timeoutMs; the caller reads `count` for what was left. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.held === 0) return;
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        timer.clear();
        resolve();
      });
    });
  }
}
