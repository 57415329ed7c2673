import type { InboundAck } from '../broker/types.js';
import type { DeadLetter, Reading } from '../contract/reading.js';

/**
 * Collects what the messages of one socket read (it holds many; flushed once the read is parsed)
 * leave behind, readings and dead letters, into one store append, and releases their acks together
 * once it committed: a dead letter is acknowledged after its commit, as a reading is. The store's
 * queue gathers the appends of one event-loop turn into one commit. Bounded: a batch past
 * `maxReadings` is appended at the end of the message that filled it (a message's rows never span
 * two appends, so its one ack covers them all); the store's own queue bound applies behind it.
 */
export class CommitBatcher {
  private readings: Reading[] = [];
  private deadLetters: DeadLetter[] = [];
  private acks: InboundAck[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly maxReadings: number,
    /** Resolves with the readings the store stored (a reading whose key was taken is not among them). */
    private readonly append: (readings: Reading[], deadLetters: DeadLetter[]) => Promise<readonly Reading[]>,
    /** After the append: the readings it stored, or on `error` the readings it was given. */
    private readonly settled: (readings: readonly Reading[], deadLetters: number, acks: InboundAck[], error: unknown) => void,
  ) {}

  /** Readings of the message being handled, with its ack. */
  add(reading: Reading | readonly Reading[], ack: InboundAck): void {
    if (Array.isArray(reading)) for (const r of reading as readonly Reading[]) this.readings.push(r);
    else this.readings.push(reading as Reading);
    this.acks.push(ack);
    this.schedule();
  }

  /** A dead letter of the message being handled; its ack follows with `hold` (or came with `add`). */
  addDeadLetter(deadLetter: DeadLetter): void {
    this.deadLetters.push(deadLetter);
    this.schedule();
  }

  /** The ack of a message that left only dead letters. */
  hold(ack: InboundAck): void {
    this.acks.push(ack);
    this.schedule();
  }

  /** After each message: a full batch is appended at once. */
  endMessage(): void {
    if (this.readings.length + this.deadLetters.length >= this.maxReadings) this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.flushTick);
  }

  private readonly flushTick = (): void => {
    if (this.scheduled) this.flush();
  };

  /** Appends what is collected now. */
  flush(): void {
    this.scheduled = false;
    if (this.acks.length === 0 && this.readings.length === 0 && this.deadLetters.length === 0) return;
    const readings = this.readings;
    const deadLetters = this.deadLetters;
    const acks = this.acks;
    this.readings = [];
    this.deadLetters = [];
    this.acks = [];
    this.inFlight += 1;
    let pending: Promise<readonly Reading[]>;
    try {
      pending = this.append(readings, deadLetters);
    } catch (error) {
      pending = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    pending.then(
      (stored) => this.done(stored, deadLetters.length, acks, undefined),
      (error: unknown) => this.done(readings, deadLetters.length, acks, error ?? new Error('append failed')),
    );
  }

  /** Resolves when every collected reading was appended and settled. */
  idle(): Promise<void> {
    this.flush();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private done(readings: readonly Reading[], deadLetters: number, acks: InboundAck[], error: unknown): void {
    this.inFlight -= 1;
    this.settled(readings, deadLetters, acks, error);
    if (this.inFlight === 0 && this.acks.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}
