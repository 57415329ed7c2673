import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { BrokerConfig } from '../config/sections/broker.js';
import type { DeadLetterReason } from '../contract/reading.js';
import { systemClock } from '../lib/clock.js';
import { EdgeError } from '../lib/lifecycle.js';
import { maySubscribe, mayPublish, verifyPassword, type Role } from './auth.js';
import { TokenBucket, topicLevels } from './limits.js';
import { listenTcp, listenTls, listenWebSocket, type ConnectionHandler, type Listener } from './listeners.js';
import { InFlight } from './in-flight.js';
import { cacheEmitterMatches, cachePersistenceMatches } from './match-cache.js';
import { forwardEveryPacket } from './dedupe.js';
import type { Broker, BrokerContext, InboundAck, InboundMessage, PublishOptions } from './types.js';

/**
 * Refused messages are still acknowledged (they were handled: dead-lettered), so the publisher does
 * not resend them forever; they are re-addressed to this topic, which no client may subscribe to and
 * which is never forwarded, instead of their own.
 */
const REFUSED_TOPIC = '$SYS/wwtp-edge/refused';
/** aedes' own hard ceiling; the configured (lower) depth is checked here so it can be dead-lettered. */
const AEDES_MAX_TOPIC_LEVELS = 100;
const DRAIN_TIMEOUT_MS = 4_000;

const enum ReturnCode {
  ServerUnavailable = 3,
  BadUsernameOrPassword = 4,
  NotAuthorized = 5,
}

function authError(message: string, returnCode: ReturnCode): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: returnCode as number }) as AuthenticateError;
}

/**
 * The acknowledgement of one held message, settled once. Built here rather than inline so that the
 * per-message closure captures three values and nothing else of the broker.
 */
function heldAck(qos: number, callback: (error?: Error | null) => void, release: () => void): InboundAck {
  let done = false;
  return (ok) => {
    if (done) return;
    done = true;
    release();
    // An unstored QoS 1 message must not be acknowledged: dropping the connection makes the client
    // resend it after reconnecting (MQTT 3.1.1 has no negative PUBACK).
    if (ok || qos === 0) callback(null);
    else callback(new EdgeError('INGEST_NOT_STORED', 'message not stored; the publisher must resend it'));
  };
}

/** The daemon's own MQTT broker (aedes): TCP, WebSocket and optional TLS listeners. */
export function createEmbeddedBroker(config: BrokerConfig['embedded'], ctx: BrokerContext): Broker {
  const log = ctx.logger;
  const clock = ctx.clock ?? systemClock;
  const limits = config.limits;
  const users = new Map(config.users.map((u) => [u.username, u]));
  const roles = new WeakMap<Client, Role>();
  const buckets = new WeakMap<Client, TokenBucket>();
  const listeners = new Map<'tcp' | 'ws' | 'tls', Listener>();
  const connectionListeners = new Set<(connected: boolean) => void>();
  let aedes: Aedes | undefined;
  let intakeOpen = false;
  let running = false;
  const inFlight = new InFlight(clock);
  let stopping: Promise<void> | undefined;
  let intakeStopping: Promise<void> | undefined;

  const setRunning = (value: boolean): void => {
    if (running === value) return;
    running = value;
    for (const listener of connectionListeners) listener(value);
  };

  const refuse = (packet: PublishPacket, message: InboundMessage, reason: DeadLetterReason, detail: string, limit?: string): void => {
    if (limit) ctx.metrics.brokerLimits.inc({ limit });
    packet.topic = REFUSED_TOPIC;
    packet.retain = false;
    try {
      ctx.onRejected?.(message, reason, detail);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'broker' });
      log.error({ err: String(error), topic: message.topic }, 'rejection handler failed');
    }
  };

  // PLCs publish the same few hundred topics over and over: remember each topic's depth check and
  // role verdict (bounded).
  const enum Verdict {
    Allowed,
    TooDeep,
    NotAllowed,
  }
  const verdicts: Record<Role, Map<string, Verdict>> = { plc: new Map(), hmi: new Map(), viewer: new Map() };
  const topicVerdict = (role: Role, topic: string): Verdict => {
    const cache = verdicts[role];
    let verdict = cache.get(topic);
    if (verdict === undefined) {
      if (topicLevels(topic) > limits.maxTopicLevels) verdict = Verdict.TooDeep;
      else verdict = mayPublish(role, topic, ctx.site) ? Verdict.Allowed : Verdict.NotAllowed;
      if (cache.size >= 4096) cache.clear();
      cache.set(topic, verdict);
    }
    return verdict;
  };

  /** Returns the refusal, if any, of a client publish; cheap checks first. */
  const check = (client: Client, message: InboundMessage): [DeadLetterReason, string, string | undefined] | undefined => {
    const role = roles.get(client) ?? 'viewer';
    const verdict = topicVerdict(role, message.topic);
    if (verdict === Verdict.TooDeep) return ['topic_too_deep', `more than ${limits.maxTopicLevels} levels`, 'topic_depth'];
    if (message.payload.length > limits.maxPayloadBytes) return ['oversized', `${message.payload.length} > ${limits.maxPayloadBytes} bytes`, 'payload_size'];
    if (verdict === Verdict.NotAllowed) return ['not_authorized', `role ${role} may not publish here`, undefined];
    const now = clock.now();
    let bucket = buckets.get(client);
    if (!bucket) {
      bucket = new TokenBucket(limits.maxPublishesPerSecond, now);
      buckets.set(client, bucket);
    }
    if (!bucket.take(now)) return ['rate_limited', `over ${limits.maxPublishesPerSecond} publishes/s`, 'publish_rate'];
    return undefined;
  };

  const authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    // aedes passes no client only for the will of a client from an earlier session: its role is unknown.
    if (!client) return callback(new Error('publisher unknown'));
    if (!intakeOpen) return callback(new Error('intake closed'));
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const message: InboundMessage = { topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, clientId: client.id };
    const refusal = check(client, message);
    if (refusal) {
      refuse(packet, message, refusal[0], refusal[1], refusal[2]);
      return callback(null);
    }
    inFlight.take();
    const ack = heldAck(packet.qos, callback, inFlight.release);
    try {
      ctx.onMessage(message, ack);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'broker' });
      log.error({ err: String(error), topic: message.topic }, 'message handler threw');
      ack(false);
    }
  };

  const authenticate = (client: Client, username: string | undefined, password: Buffer | undefined, done: (error: AuthenticateError | null, success: boolean | null) => void): void => {
    if (aedes && aedes.connectedClients >= limits.maxClients) {
      ctx.metrics.brokerLimits.inc({ limit: 'max_clients' });
      return done(authError('too many clients', ReturnCode.ServerUnavailable), false);
    }
    if (username === undefined || username === '') {
      if (!config.allowAnonymous) return done(authError('anonymous access refused', ReturnCode.NotAuthorized), false);
      roles.set(client, config.anonymousRole);
      return done(null, true);
    }
    const user = users.get(username);
    if (!user || !password) return done(authError('bad username or password', ReturnCode.BadUsernameOrPassword), false);
    verifyPassword(password.toString('utf8'), user.passwordHash).then(
      (ok) => {
        if (!ok) return done(authError('bad username or password', ReturnCode.BadUsernameOrPassword), false);
        roles.set(client, user.role);
        done(null, true);
      },
      (error: unknown) => {
        log.warn({ err: String(error), username }, 'password check failed');
        done(authError('bad username or password', ReturnCode.BadUsernameOrPassword), false);
      },
    );
  };

  const address = () => ({ tcpPort: listeners.get('tcp')?.port ?? 0, wsPort: listeners.get('ws')?.port, tlsPort: listeners.get('tls')?.port });

  const stopIntake = (): Promise<void> => {
    intakeStopping ??= (async () => {
      intakeOpen = false;
      for (const listener of listeners.values()) listener.stopAccepting();
      await inFlight.drain(ctx.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      if (inFlight.count > 0) log.warn({ held: inFlight.count }, 'messages still waiting for their commit at shutdown; their publishers will resend them');
      // The last PUBACKs are written on the next tick (mqtt-packet corks the socket): let them out.
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([...listeners.values()].map((l) => l.close()));
    })();
    return intakeStopping;
  };

  return {
    name: 'broker',
    async start(signal) {
      const broker = await Aedes.createBroker({
        maxTopicLevels: AEDES_MAX_TOPIC_LEVELS,
        drainTimeout: 30_000,
        heartbeatInterval: 60_000,
        authenticate,
        authorizePublish,
        authorizeSubscribe: (client, subscription, callback) => {
          if (maySubscribe(roles.get(client) ?? 'viewer', subscription.topic)) callback(null, subscription);
          // A null subscription answers with a failure code (0x80) instead of dropping the client.
          else callback(null, null);
        },
        authorizeForward: (_client, packet) => (packet.topic === REFUSED_TOPIC ? null : packet),
      });
      aedes = broker;
      const internals = broker as unknown as { mq?: unknown; persistence?: unknown };
      const cached = [cacheEmitterMatches(internals.mq), cachePersistenceMatches(internals.persistence)];
      if (cached.includes(false)) log.warn({ emitter: cached[0], persistence: cached[1] }, 'aedes internals not as expected: topic matches are not cached');
      const onClients = (): void => ctx.metrics.clients.set(broker.connectedClients);
      broker.on('client', onClients);
      broker.on('clientDisconnect', onClients);
      broker.on('clientError', (client, error) => {
        if (error.message.includes('too many levels')) ctx.metrics.brokerLimits.inc({ limit: 'topic_depth' });
        log.debug({ clientId: client.id, err: error.message }, 'client error');
      });
      broker.on('connectionError', (_client, error) => log.debug({ err: error.message }, 'connection error'));
      let dedupeWarned = false;
      const onConnection: ConnectionHandler = (stream, request) => {
        const client: unknown = broker.handle(stream, request);
        if (!forwardEveryPacket(client) && !dedupeWarned) {
          dedupeWarned = true;
          log.warn('aedes client internals not as expected: packets published out of order may not reach subscribers');
        }
      };
      try {
        listeners.set('tcp', await listenTcp({ host: config.host, port: config.port, signal, onConnection }));
        if (config.wsPort !== null) {
          listeners.set('ws', await listenWebSocket({ host: config.host, port: config.wsPort, maxPayloadBytes: limits.maxPayloadBytes, signal, onConnection }));
        }
        if (config.tls) {
          const tls = config.tls;
          listeners.set('tls', await listenTls({ host: config.host, port: tls.port, certFile: tls.certFile, keyFile: tls.keyFile, caFile: tls.caFile, signal, onConnection }));
        }
      } catch (error) {
        await Promise.all([...listeners.values()].map((l) => l.close()));
        listeners.clear();
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        throw new EdgeError('BROKER_LISTEN', `embedded broker could not listen on ${config.host}: ${error instanceof Error ? error.message : String(error)}`);
      }
      intakeOpen = true;
      setRunning(true);
      log.info({ ...address(), host: config.host, anonymous: config.allowAnonymous, users: users.size }, 'embedded broker listening');
    },
    stopIntake,
    stop() {
      stopping ??= (async () => {
        await stopIntake();
        const broker = aedes;
        if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
        ctx.metrics.clients.set(0);
        setRunning(false);
      })();
      return stopping;
    },
    publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void> {
      const broker = aedes;
      if (!broker || broker.closed) return Promise.reject(new EdgeError('BROKER_CLOSED', 'embedded broker is not running'));
      return new Promise((resolve, reject) => {
        broker.publish(
          { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: options.qos, retain: options.retain, dup: false },
          (error) => (error ? reject(error) : resolve()),
        );
      });
    },
    connected: () => running,
    address,
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
}
