/**
 * Outbound messages kept while the external broker is unreachable. Bounded: when full, the oldest
 * message is dropped (its promise rejected) and counted, so the newest setpoints and alarms win.
 */
export interface QueuedPublish {
  readonly topic: string;
  readonly payload: string | Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  resolve(): void;
  reject(error: Error): void;
}

export class OfflineQueue {
  private items: QueuedPublish[] = [];
  private head = 0;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: (dropped: QueuedPublish) => void,
  ) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: QueuedPublish): void {
    if (this.size >= this.capacity) {
      const dropped = this.items[this.head];
      this.head += 1;
      if (dropped) this.onDrop(dropped);
    }
    this.items.push(item);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Removes and returns everything queued, oldest first. */
  takeAll(): QueuedPublish[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}
