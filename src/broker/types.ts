import type { DeadLetterReason } from '../contract/reading.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';

/** One message that reached the daemon, from a client of the embedded broker or a subscription. */
export interface InboundMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** Client id of the publisher (embedded mode only). */
  readonly clientId?: string | undefined;
}

/**
 * Releases the message: `true` once it is handled (a reading committed, a command passed on, a bad
 * message dead-lettered); `false` when it could not be stored, so the publisher must resend it.
 * Only after `ack(true)` does the broker send the QoS 1 acknowledgement (PRODUCT 5, guarantee 1).
 */
export type InboundAck = (ok: boolean) => void;

export interface PublishOptions {
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

export interface BrokerAddress {
  /** MQTT over TCP (embedded), or the port of the external broker's URL. */
  readonly tcpPort: number;
  /** WebSocket listener (embedded, when enabled). */
  readonly wsPort: number | undefined;
  /** MQTT over TLS (embedded, when configured). */
  readonly tlsPort: number | undefined;
}

export interface BrokerContext {
  readonly site: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  /** How long stopping waits for held acks (default 4 s). */
  readonly drainTimeoutMs?: number;
  /** Every inbound message; the broker holds the QoS 1 acknowledgement until `ack(true)`. */
  readonly onMessage: (message: InboundMessage, ack: InboundAck) => void;
  /**
   * A message the broker itself refused (role, limits); it is not forwarded, and acknowledged through
   * `ack` once its dead letter is committed.
   */
  readonly onRejected?: (message: InboundMessage, reason: DeadLetterReason, detail: string, ack: InboundAck) => void;
  /**
   * Subscription filters of the plant's own topics (config `tags.mqtt`): PLCs may publish them to the
   * embedded broker, the daemon subscribes to them on an external one.
   */
  readonly plantTopics?: readonly string[];
}

export interface Broker {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  /** Stops taking messages in (listeners closed, subscriptions dropped) and waits for held acks. */
  stopIntake(): Promise<void>;
  /** Idempotent: stops intake, flushes outbound messages, closes. */
  stop(): Promise<void>;
  /** The daemon's own output. Resolves when handed to the broker (embedded) or acknowledged (external, QoS 1). */
  publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void>;
  connected(): boolean;
  address(): BrokerAddress;
  /** Returns an unsubscribe function. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
}
