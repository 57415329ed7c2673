import type { InboundAck } from '../broker/types.js';
import { counter } from '../broker/metrics.js';
import type { EdgeConfig } from '../config/schema.js';
import type { HmiCommand, ReadingSink } from '../contract/ports.js';
import type { DeadLetter, DeadLetterReason, Reading } from '../contract/reading.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import { CommitBatcher } from './batch.js';
import { makeDeadLetter } from './dead-letter.js';
import { handleHmi } from './handlers/hmi.js';
import { createMappedHandler } from './handlers/mapped.js';
import { handleOwn, handleUnknown } from './handlers/other.js';
import { handleReading } from './handlers/reading.js';
import { createSparkplugHandler } from './handlers/sparkplug.js';
import type { Handler, IngestKit } from './kit.js';
import { createRouter, type Route, type RouteKind } from './router.js';
import { createTagMap } from '../mapping/tag-map.js';

export { decodeReading } from './handlers/reading.js';
export { decodeHmiCommand } from './handlers/hmi.js';
export { payloadText, makeDeadLetter } from './dead-letter.js';

export interface IngestContext {
  readonly config: Pick<EdgeConfig, 'site' | 'signals' | 'ingest'> & Partial<Pick<EdgeConfig, 'tags'>>;
  readonly sink: ReadingSink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** To the dead-letter topic (PRODUCT 4.2); must not throw. */
  readonly publishDeadLetter: (deadLetter: DeadLetter) => void;
  /** Readings after their commit, in batches. */
  readonly onReadings: (readings: readonly Reading[]) => void;
  readonly onCommand: (command: HmiCommand) => void;
  /** Raw publish for Sparkplug rebirth requests (NCMD); without it no rebirth is requested. */
  readonly publishRaw?: (topic: string, payload: Buffer) => void;
}

export interface Ingest {
  /** Hot path: one inbound message. `ack(true)` once handled; `ack(false)` when it was not stored. */
  handle(topic: string, payload: Buffer, qos: number, ack: InboundAck): void;
  /**
   * A message the broker refused (role, limits): dead-lettered here. With `ack` (the broker holds the
   * message's acknowledgement) it is released once the dead letter is committed.
   */
  reject(topic: string, payload: Buffer, reason: DeadLetterReason, detail?: string, ack?: InboundAck): void;
  /** Appends what is collected and resolves once every pending append settled (tests, shutdown). */
  idle(): Promise<void>;
}

type HandlerTable = { readonly [K in RouteKind]: Handler<Extract<Route, { kind: K }>> };

/**
 * The ingest: topic router -> one small handler per message kind -> validation -> the store (acks
 * after commit) or dead letters (topic, table, metric). No handler error escapes.
 */
export function createIngest(ctx: IngestContext): Ingest {
  const { config, metrics, clock } = ctx;
  const log = ctx.logger;
  const tags = createTagMap(config.tags ?? { mqtt: [], points: [] }, config.signals);
  const router = createRouter(config.site, config.signals, tags);
  const window = { maxFutureMs: config.ingest.maxFutureSkewSec * 1000, maxAgeMs: config.ingest.maxAgeDays * 86_400_000 };
  const maxPayloadBytes = config.ingest.maxPayloadBytes;
  const notStored = counter(metrics.registry, 'wwtp_edge_ingest_not_stored_total', 'Readings left unacknowledged because the store refused them (the publisher resends)');
  const events = counter(metrics.registry, 'wwtp_edge_ingest_events_total', 'Ingest events that are not dead letters', ['event'] as const);
  const deadLetterCounter = metrics.deadLetters;

  // While a message is handled: its dead letters join the readings' next append, so its ack waits
  // for their commit (PRODUCT 5.1 holds for the record of what a PLC sent, too).
  let handling = false;
  let deadLetterHeld = false;

  const batcher = new CommitBatcher(
    config.ingest.maxBatchReadings,
    (readings, deadLetters) => ctx.sink.appendReadings(readings, deadLetters),
    (readings, deadLetters, acks, error) => {
      if (error !== undefined) {
        notStored.inc(readings.length);
        log.warn({ err: error instanceof Error ? error.message : String(error), readings: readings.length, deadLetters }, 'readings not stored; left unacknowledged');
        for (const ack of acks) ack(false);
        return;
      }
      for (const ack of acks) ack(true);
      if (readings.length === 0) return;
      try {
        ctx.onReadings(readings);
      } catch (error) {
        metrics.handlerErrors.inc({ component: 'ingest.readings' });
        log.error({ err: error instanceof Error ? error.stack : String(error) }, 'readings consumer threw');
      }
    },
  );

  const deadLetter = (topic: string, payload: Buffer, reason: DeadLetterReason, detail?: string): void => {
    deadLetterCounter.inc({ reason });
    const letter = makeDeadLetter(topic, payload, reason, detail, clock.now());
    try {
      if (handling) {
        batcher.addDeadLetter(letter);
        deadLetterHeld = true;
      } else {
        ctx.sink.appendDeadLetter(letter);
      }
    } catch (error) {
      metrics.handlerErrors.inc({ component: 'ingest.deadletter' });
      log.error({ err: String(error) }, 'dead letter not stored');
    }
    try {
      ctx.publishDeadLetter(letter);
    } catch (error) {
      metrics.handlerErrors.inc({ component: 'ingest.deadletter' });
      log.error({ err: String(error) }, 'dead letter not published');
    }
  };

  // Set by `commit` so the boundary knows whether the ack was handed on before a handler threw.
  let ackHandedOn = false;
  const kit: IngestKit = {
    site: config.site,
    window,
    logger: log,
    now: () => clock.now(),
    deadLetter,
    commit(readings, ack) {
      // A message's ack is handed on once, with its first readings; the rest join the same append.
      if (ackHandedOn) batcher.add(readings, () => undefined);
      else batcher.add(readings, ack);
      ackHandedOn = true;
    },
    command(command) {
      try {
        ctx.onCommand(command);
      } catch (error) {
        metrics.handlerErrors.inc({ component: 'ingest.command' });
        log.error({ err: error instanceof Error ? error.stack : String(error), command: command.kind }, 'command consumer threw');
      }
    },
    publish(topic, payload) {
      try {
        ctx.publishRaw?.(topic, payload);
      } catch (error) {
        metrics.handlerErrors.inc({ component: 'ingest.sparkplug' });
        log.warn({ err: String(error), topic }, 'rebirth request not published');
      }
    },
    count(event, label) {
      events.inc({ event: label ? `${event}:${label}` : event });
    },
  };

  const handlers: HandlerTable = {
    reading: handleReading,
    hmi: handleHmi,
    sparkplug: createSparkplugHandler(config.ingest.sparkplug, router.entries, tags),
    mapped: createMappedHandler(tags),
    own: handleOwn,
    unknown: handleUnknown,
  };

  /** The message is handled: its ack goes now, or with the commit of what it left behind. */
  const finish = (ack: InboundAck): void => {
    if (ackHandedOn) return;
    ackHandedOn = true;
    if (deadLetterHeld) batcher.hold(ack);
    else ack(true);
  };

  return {
    handle(topic, payload, _qos, ack) {
      ackHandedOn = false;
      deadLetterHeld = false;
      handling = true;
      let kind: RouteKind = 'unknown';
      try {
        if (payload.length > maxPayloadBytes) {
          deadLetter(topic, payload, 'oversized', `${payload.length} > ${maxPayloadBytes} bytes`);
          finish(ack);
          return;
        }
        const route = router.route(topic);
        kind = route.kind;
        const held = (handlers[route.kind] as Handler<Route>)(route, topic, payload, ack, kit);
        if (!held) finish(ack);
      } catch (error) {
        metrics.handlerErrors.inc({ component: `ingest.${kind}` });
        log.error({ component: `ingest.${kind}`, topic, err: error instanceof Error ? error.stack : String(error) }, 'message handler threw');
        try {
          deadLetter(topic, payload, 'handler_error', error instanceof Error ? error.message : String(error));
        } finally {
          finish(ack);
        }
      } finally {
        handling = false;
        batcher.endMessage();
      }
    },
    reject(topic, payload, reason, detail, ack) {
      ackHandedOn = false;
      deadLetterHeld = false;
      handling = ack !== undefined;
      try {
        deadLetter(topic, payload, reason, detail);
      } catch (error) {
        metrics.handlerErrors.inc({ component: 'ingest.reject' });
        log.error({ err: String(error), topic }, 'rejection not recorded');
      } finally {
        handling = false;
        if (ack) finish(ack);
        batcher.endMessage();
      }
    },
    idle: () => batcher.idle(),
  };
}
