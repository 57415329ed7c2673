import type { InboundAck } from '../broker/types.js';
import type { HmiCommand } from '../contract/ports.js';
import type { DeadLetterReason, Reading } from '../contract/reading.js';
import type { Logger } from '../lib/logger.js';
import type { Route } from './router.js';
import type { TimeWindow } from './validate.js';

/** What a message handler may do; the ingest builds one and hands it to every handler. */
export interface IngestKit {
  readonly site: string;
  readonly window: TimeWindow;
  readonly logger: Logger;
  now(): number;
  deadLetter(topic: string, payload: Buffer, reason: DeadLetterReason, detail?: string): void;
  /** Queues readings for the next store append; `ack` is released once they are committed. */
  commit(readings: Reading | readonly Reading[], ack: InboundAck): void;
  command(command: HmiCommand): void;
  /** Publishes a raw message (Sparkplug rebirth requests). */
  publish(topic: string, payload: Buffer): void;
  count(counter: 'seq_gap' | 'rebirth_request' | 'ignored', label?: string): void;
}

/**
 * One message kind. Returns true when it handed `ack` on (to `kit.commit`), false when the message
 * is fully handled and may be acknowledged now.
 */
export type Handler<R extends Route> = (route: R, topic: string, payload: Buffer, ack: InboundAck, kit: IngestKit) => boolean;
