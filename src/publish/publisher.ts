import type { Publisher } from '../contract/ports.js';
import { OUT_OPTIONS, outTopic, type OutKind, type OutTopics } from '../contract/topics.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';

/** What the broker offers for output: one raw publish. */
export type RawPublish = (topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }) => Promise<void>;

/**
 * The typed MQTT output of the daemon. Never throws: a payload with a non-finite number is refused
 * (NaN is never published), failures are logged and counted.
 */
export function createPublisher(ctx: { site: string; send: RawPublish; logger: Logger; metrics: Metrics }): Publisher {
  const log = ctx.logger.child({ component: 'publish' });
  return {
    publish<K extends OutKind>(kind: K, params: OutTopics[K]['params'], payload: OutTopics[K]['payload']): void {
      let topic = '';
      try {
        topic = outTopic(ctx.site, kind, params);
        const body = typeof payload === 'string' ? payload : JSON.stringify(payload, finiteOnly);
        ctx.send(topic, body, OUT_OPTIONS[kind]).then(
          () => ctx.metrics.published.inc({ kind }),
          (error: unknown) => {
            ctx.metrics.handlerErrors.inc({ component: 'publish' });
            log.warn({ topic, err: String(error) }, 'publish failed');
          },
        );
      } catch (error) {
        ctx.metrics.handlerErrors.inc({ component: 'publish' });
        log.error({ topic, kind, err: String(error) }, 'refused to publish');
      }
    },
  };
}

function finiteOnly(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`non-finite number in field ${key}`);
  return value;
}
