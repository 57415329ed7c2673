import type { BrokerConfig } from '../config/sections/broker.js';
import { createEmbeddedBroker } from './embedded.js';
import { createExternalBroker } from './external.js';
import type { Broker, BrokerContext } from './types.js';

export { hashPassword, verifyPassword, mayPublish, maySubscribe, type Role } from './auth.js';
export type { Broker, BrokerAddress, BrokerContext, InboundAck, InboundMessage, PublishOptions } from './types.js';

/**
 * One broker for both modes (config broker.mode): the embedded aedes broker or a client of the
 * plant's broker. Either way, inbound QoS 1 messages are acknowledged only after `ack(true)`.
 */
export function createBroker(config: BrokerConfig, ctx: BrokerContext & { readonly subscriptions?: readonly string[] }): Broker {
  return config.mode === 'embedded' ? createEmbeddedBroker(config.embedded, ctx) : createExternalBroker(config.external, ctx);
}
