import { z } from 'zod';

const userSchema = z
  .object({
    username: z.string().min(1),
    /** scrypt$<salt hex>$<key hex>, made by `wwtp-edge hash-password`. */
    passwordHash: z.string().regex(/^scrypt\$[0-9a-f]+\$[0-9a-f]+$/, 'expected scrypt$<salt>$<hash>'),
    role: z.enum(['plc', 'hmi', 'viewer']),
  })
  .strict();

const tlsSchema = z
  .object({ port: z.number().int().min(0).max(65535), certFile: z.string(), keyFile: z.string(), caFile: z.string().optional() })
  .strict();

export const embeddedBrokerSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
    /** WebSocket listener for browser HMIs; null disables it. */
    wsPort: z.number().int().min(0).max(65535).nullable().default(8083),
    tls: tlsSchema.nullable().default(null),
    allowAnonymous: z.boolean().default(false),
    /** Role given to anonymous clients when they are allowed. */
    anonymousRole: z.enum(['plc', 'hmi', 'viewer']).default('plc'),
    users: z.array(userSchema).default([]),
    limits: z
      .object({
        maxPayloadBytes: z.number().int().positive().default(65_536),
        maxTopicLevels: z.number().int().positive().default(8),
        maxPublishesPerSecond: z.number().positive().default(20_000),
        maxClients: z.number().int().positive().default(200),
        /** A packet declaring more is refused from its header, unread, and its connection closed. */
        maxPacketBytes: z.number().int().positive().default(1_048_576),
        /** CONNECTs asking for a longer keepalive, or none (0), are refused (identifier rejected). */
        maxKeepaliveSec: z.number().int().positive().default(300),
        /** A connection that sent no CONNECT within this time is closed. */
        connectTimeoutSec: z.number().positive().default(10),
        /** A connection that completed no packet for this long is closed, whatever its keepalive (keep it above 1.5 x maxKeepaliveSec). */
        idleTimeoutSec: z.number().positive().default(600),
        /** A subscriber whose socket takes nothing for this long is disconnected (until then it holds up delivery to all). */
        drainTimeoutSec: z.number().positive().default(5),
      })
      .strict()
      .refine((l) => l.maxPacketBytes > l.maxPayloadBytes, { message: 'maxPacketBytes must exceed maxPayloadBytes', path: ['maxPacketBytes'] })
      .prefault({}),
  })
  .strict();

export const externalBrokerSchema = z
  .object({
    url: z.string().default('mqtt://127.0.0.1:1883'),
    username: z.string().optional(),
    password: z.string().optional(),
    caFile: z.string().optional(),
    certFile: z.string().optional(),
    keyFile: z.string().optional(),
    clientId: z.string().optional(),
    /** Persistent session so QoS 1 readings queued by the broker survive a reconnect. */
    cleanSession: z.boolean().default(false),
    /** MQTT 5 session expiry: how long the broker keeps queueing for the daemon while it is away. */
    sessionExpirySec: z.number().int().nonnegative().default(7 * 24 * 3600),
    /** MQTT 5 receive maximum: QoS 1 messages the broker may have in flight to the daemon (acks wait for commits). */
    receiveMaximum: z.number().int().min(1).max(65_535).default(10_000),
    keepaliveSec: z.number().int().positive().default(30),
    reconnectMinMs: z.number().int().positive().default(500),
    reconnectMaxMs: z.number().int().positive().default(30_000),
    /** Outbound messages kept while disconnected; older ones are dropped and counted. */
    maxOfflineQueue: z.number().int().positive().default(10_000),
  })
  .strict();

export const brokerSchema = z
  .object({
    mode: z.enum(['embedded', 'external']).default('embedded'),
    embedded: embeddedBrokerSchema.prefault({}),
    external: externalBrokerSchema.prefault({}),
  })
  .strict();

export type BrokerConfig = z.infer<typeof brokerSchema>;
