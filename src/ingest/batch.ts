import type { InboundAck } from '../broker/types.js';
import type { Reading } from '../contract/reading.js';

/**
 * Collects the readings of one socket read (it holds many messages; flushed once the read is parsed) into
 * one store append, and releases their acks together once it committed. The store's queue gathers
 * the appends of one event-loop turn into one commit. Bounded: a full batch is appended
 * at once and a new one started; the store's own queue bound applies behind it.
 */
export class CommitBatcher {
  private readings: Reading[] = [];
  private acks: InboundAck[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly maxReadings: number,
    private readonly append: (readings: Reading[]) => Promise<void>,
    private readonly settled: (readings: Reading[], acks: InboundAck[], error: unknown) => void,
  ) {}

  add(reading: Reading | readonly Reading[], ack: InboundAck): void {
    if (Array.isArray(reading)) for (const r of reading as readonly Reading[]) this.readings.push(r);
    else this.readings.push(reading as Reading);
    this.acks.push(ack);
    if (this.readings.length >= this.maxReadings) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTick);
    }
  }

  private readonly flushTick = (): void => {
    if (this.scheduled) this.flush();
  };

  /** Appends what is collected now. */
  flush(): void {
    this.scheduled = false;
    if (this.acks.length === 0) return;
    const readings = this.readings;
    const acks = this.acks;
    this.readings = [];
    this.acks = [];
    this.inFlight += 1;
    let pending: Promise<void>;
    try {
      pending = this.append(readings);
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    pending.then(
      () => this.done(readings, acks, undefined),
      (error: unknown) => this.done(readings, acks, error ?? new Error('append failed')),
    );
  }

  /** Resolves when every collected reading was appended and settled. */
  idle(): Promise<void> {
    this.flush();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private done(readings: Reading[], acks: InboundAck[], error: unknown): void {
    this.inFlight -= 1;
    this.settled(readings, acks, error);
    if (this.inFlight === 0 && this.acks.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}
