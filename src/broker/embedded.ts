import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import type { BrokerConfig } from '../config/sections/broker.js';
import type { DeadLetterReason } from '../contract/reading.js';
import { systemClock } from '../lib/clock.js';
import { EdgeError } from '../lib/lifecycle.js';
import { maySubscribe, mayPublish, plantTopicPatterns, verifyPassword, type Role } from './auth.js';
import { ConnectionSweep, GuardedConnection, type GuardRefusal } from './guard.js';
import { PublishThrottle, grantedQos, topicLevels } from './limits.js';
import { listenTcp, listenTls, listenWebSocket, type ConnectionHandler, type Listener } from './listeners.js';
import { InFlight } from './in-flight.js';
import { cacheEmitterMatches, cachePersistenceMatches } from './match-cache.js';
import { counter } from './metrics.js';
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
/** How long stopping waits for clients to take their last messages (`offline`) and close. */
const CLOSE_GRACE_MS = 1_000;
/** The daemon's own publishes waiting for their turn; past it a publish fails (and is logged by the publisher). */
const MAX_OUTBOUND_QUEUE = 10_000;

/** Why the broker closed or refused a connection (`wwtp_edge_broker_connections_refused_total{reason}`). */
type ConnectionRefusal = GuardRefusal | 'keepalive' | 'keepalive_timeout' | 'client_id' | 'drain_timeout';

const enum ReturnCode {
  IdentifierRejected = 2,
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
  const throttles = new Map<Client, PublishThrottle>();
  const guards = new WeakMap<Client, GuardedConnection>();
  /** Clients whose connection failed: what they still had waiting is not taken in. */
  const gone = new WeakSet<Client>();
  /** Clients whose connection was closed for a counted reason. */
  const closedFor = new WeakSet<Client>();
  /** What each CONNECT asked for, read before aedes fills in a generated id. */
  const connects = new WeakMap<Client, { keepalive: number; emptyId: boolean; clean: boolean }>();
  const refusals = counter(ctx.metrics.registry, 'wwtp_edge_broker_connections_refused_total', 'Connections the embedded broker refused or closed, by reason', ['reason']);
  const sweep = new ConnectionSweep(clock, limits.connectTimeoutSec * 1000, limits.idleTimeoutSec * 1000);
  /** The daemon's own publishes go to aedes one at a time, each after the previous one was delivered. */
  let outbound: Promise<void> = Promise.resolve();
  let outboundQueued = 0;
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

  const refuse = (packet: PublishPacket, message: InboundMessage, reason: DeadLetterReason, detail: string, limit: string | undefined, callback: (error?: Error | null) => void): void => {
    if (limit) ctx.metrics.brokerLimits.inc({ limit });
    packet.topic = REFUSED_TOPIC;
    packet.retain = false;
    const onRejected = ctx.onRejected;
    if (!onRejected) return callback(null);
    // Acknowledged once the dead letter is committed, as a reading is.
    inFlight.take();
    const ack = heldAck(message.qos, callback, inFlight.release);
    try {
      onRejected(message, reason, detail, ack);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'broker' });
      log.error({ err: String(error), topic: message.topic }, 'rejection handler failed');
      ack(false);
    }
  };

  // PLCs publish the same few hundred topics over and over: remember each topic's depth check and
  // role verdict (bounded).
  const enum Verdict {
    Allowed,
    TooDeep,
    NotAllowed,
  }
  const plantTopics = plantTopicPatterns(ctx.plantTopics);
  const verdicts: Record<Role, Map<string, Verdict>> = { plc: new Map(), hmi: new Map(), viewer: new Map() };
  const topicVerdict = (role: Role, topic: string): Verdict => {
    const cache = verdicts[role];
    let verdict = cache.get(topic);
    if (verdict === undefined) {
      if (topicLevels(topic) > limits.maxTopicLevels) verdict = Verdict.TooDeep;
      else verdict = mayPublish(role, topic, ctx.site, plantTopics) ? Verdict.Allowed : Verdict.NotAllowed;
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
    return undefined;
  };

  const refuseConnection = (reason: ConnectionRefusal, detail: string, clientId?: string | null): void => {
    refusals.inc({ reason });
    log.warn({ reason, clientId: clientId ?? undefined, detail }, 'connection refused');
  };

  /** Hands one accepted publish to the ingest; its acknowledgement waits for the commit. */
  const deliver = (client: Client, message: InboundMessage, callback: (error?: Error | null) => void, will = false): void => {
    if (!intakeOpen || (gone.has(client) && !will)) return callback(new Error('intake closed'));
    inFlight.take();
    const ack = heldAck(message.qos, callback, inFlight.release);
    try {
      ctx.onMessage(message, ack);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'broker' });
      log.error({ err: String(error), topic: message.topic }, 'message handler threw');
      ack(false);
    }
  };

  const authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    // aedes passes no client only for the will of a client from an earlier session: its role is unknown.
    if (!client) return callback(new Error('publisher unknown'));
    if (!intakeOpen) return callback(new Error('intake closed'));
    // Read in the same chunk as a packet that closed the connection (an ill-formed topic): not acted on.
    if (guards.get(client)?.closed) return callback(new Error('connection closed by the broker'));
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const message: InboundMessage = { topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, clientId: client.id };
    const refusal = check(client, message);
    if (refusal) {
      refuse(packet, message, refusal[0], refusal[1], refusal[2], callback);
      return;
    }
    // aedes authorizes a client's will once the client is closed: it goes in whatever the rate.
    if (client.closed) return deliver(client, message, callback, true);
    // Too fast is slowed, not refused: the publish (and its acknowledgement) waits for a token, and
    // aedes reads the client's socket again only once the publishes it already read were let through.
    let throttle = throttles.get(client);
    if (!throttle) {
      throttle = new PublishThrottle(limits.maxPublishesPerSecond, clock);
      throttles.set(client, throttle);
    }
    if (throttle.admit(() => deliver(client, message, callback))) ctx.metrics.brokerLimits.inc({ limit: 'publish_rate' });
  };

  const dropThrottle = (client: Client): void => {
    gone.add(client);
    const throttle = throttles.get(client);
    throttles.delete(client);
    // Not acknowledged: the publisher resends them after reconnecting.
    throttle?.clear((proceed) => proceed());
  };

  const authenticate = (client: Client, username: string | undefined, password: Buffer | undefined, done: (error: AuthenticateError | null, success: boolean | null) => void): void => {
    const asked = connects.get(client);
    // MQTT 3.1.1 section 3.1.3.1: a zero-length client id needs a clean session.
    if (asked?.emptyId && !asked.clean) {
      refuseConnection('client_id', 'zero-length client id with cleanSession 0');
      return done(authError('identifier rejected', ReturnCode.IdentifierRejected), false);
    }
    // MQTT 3.1.1 cannot tell a client which keepalive to use: a longer one is refused, as Mosquitto's
    // max_keepalive does, with "identifier rejected". Keepalive 0 (none) is legal MQTT and many
    // clients' default: such a connection is taken and bounded by idleTimeoutSec instead.
    if (asked && asked.keepalive > limits.maxKeepaliveSec) {
      refuseConnection('keepalive', `keepalive ${asked.keepalive} s, at most ${limits.maxKeepaliveSec} s allowed`, client.id);
      return done(authError('keepalive refused', ReturnCode.IdentifierRejected), false);
    }
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
      for (const client of [...throttles.keys()]) dropThrottle(client);
      await inFlight.drain(ctx.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      if (inFlight.count > 0) log.warn({ held: inFlight.count }, 'messages still waiting for their commit at shutdown; their publishers will resend them');
      // Connections stay open: HMIs still get the daemon's last outputs and `offline` (stop closes them).
    })();
    return intakeStopping;
  };

  return {
    name: 'broker',
    async start(signal) {
      const broker = await Aedes.createBroker({
        maxTopicLevels: AEDES_MAX_TOPIC_LEVELS,
        // aedes waits for a subscriber's socket to drain before it completes a delivery, and holds the
        // next ones (for every subscriber, and the publishers' reads) meanwhile: a frozen one is cut.
        drainTimeout: limits.drainTimeoutSec * 1000,
        heartbeatInterval: 60_000,
        // The sweep closes silent connections first; aedes' own timer is the backstop.
        connectTimeout: limits.connectTimeoutSec * 2000,
        preConnect: (client, packet, callback) => {
          // A CONNECT whose strings closed the connection (ill-formed UTF-8): no session is opened or taken over.
          if (guards.get(client)?.closed) return callback(new Error('connection closed by the broker'), false);
          connects.set(client, { keepalive: packet.keepalive ?? 0, emptyId: !packet.clientId, clean: packet.clean !== false });
          callback(null, true);
        },
        authenticate,
        authorizePublish,
        authorizeSubscribe: (client, subscription, callback) => {
          if (guards.get(client)?.closed) return callback(new Error('connection closed by the broker'), null);
          if (maySubscribe(roles.get(client) ?? 'viewer', subscription.topic)) callback(null, subscription);
          // A null subscription answers with a failure code (0x80) instead of dropping the client.
          else callback(null, null);
        },
        authorizeForward: (client, packet) => {
          if (packet.topic === REFUSED_TOPIC) return null;
          // aedes lowers a QoS 2 message to the subscription's QoS only when the client subscribed to
          // that exact topic, not through a wildcard filter; here through any.
          if (packet.qos !== 2) return packet;
          const subscriptions = (client as unknown as { subscriptions?: Record<string, { qos?: number }> }).subscriptions;
          const qos = subscriptions ? grantedQos(subscriptions, packet.topic, packet.qos) : packet.qos;
          return qos >= packet.qos || qos === 0 ? packet : { ...packet, qos };
        },
      });
      aedes = broker;
      const internals = broker as unknown as { mq?: unknown; persistence?: unknown };
      const cached = [cacheEmitterMatches(internals.mq), cachePersistenceMatches(internals.persistence)];
      if (cached.includes(false)) log.warn({ emitter: cached[0], persistence: cached[1] }, 'aedes internals not as expected: topic matches are not cached');
      const onClients = (): void => ctx.metrics.clients.set(broker.connectedClients);
      broker.on('client', onClients);
      broker.on('clientDisconnect', (client) => {
        onClients();
        dropThrottle(client);
      });
      broker.on('clientError', (client, error) => {
        dropThrottle(client);
        if (error.message.includes('too many levels')) ctx.metrics.brokerLimits.inc({ limit: 'topic_depth' });
        // aedes may report one failure several times (once per write it fails): counted once per client.
        if (closedFor.has(client)) return;
        // MQTT closes the connection of a client publishing to a wildcard or an empty topic.
        if (/not allowed in PUBLISH/.test(error.message)) {
          closedFor.add(client);
          refuseConnection('invalid_topic', error.message, client.id);
        } else if (error.message === 'drain timeout') {
          closedFor.add(client);
          refuseConnection('drain_timeout', `took nothing written to it for ${limits.drainTimeoutSec} s`, client.id);
        } else log.debug({ clientId: client.id, err: error.message }, 'client error');
      });
      broker.on('keepaliveTimeout', (client) => refuseConnection('keepalive_timeout', `nothing received for 1.5 x its keepalive`, client.id));
      broker.on('connectionError', (_client, error) => log.debug({ err: error.message }, 'connection error'));
      const onConnection: ConnectionHandler = (stream, request) => {
        let client: Client | undefined;
        const guarded = new GuardedConnection(stream, limits.maxPacketBytes, clock.now(), (_connection, reason, detail) => refuseConnection(reason, detail, client?.id));
        sweep.add(guarded);
        client = broker.handle(stream, request);
        guards.set(client, guarded);
        guarded.watch();
      };
      try {
        listeners.set('tcp', await listenTcp({ host: config.host, port: config.port, signal, onConnection }));
        if (config.wsPort !== null) {
          listeners.set('ws', await listenWebSocket({ host: config.host, port: config.wsPort, maxFrameBytes: limits.maxPacketBytes + 65_536, signal, onConnection }));
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
        // The daemon's last outputs (`offline` among them) go out first, unless a frozen subscriber holds them.
        await Promise.race([outbound, new Promise((resolve) => clock.setTimeout(() => resolve(undefined), CLOSE_GRACE_MS))]);
        sweep.stop();
        // Clients get what was written to them (the daemon's `offline` last) before their connection ends.
        await Promise.all([...listeners.values()].map((l) => l.close(CLOSE_GRACE_MS)));
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
      if (outboundQueued >= MAX_OUTBOUND_QUEUE) return Promise.reject(new EdgeError('BROKER_BACKLOG', `${MAX_OUTBOUND_QUEUE} outputs already waiting for the broker`));
      // aedes numbers each packet when it is handed over and drops, per subscriber, one numbered below
      // the last it delivered (its duplicate filter for overlapping subscriptions); a retained packet
      // waits for the retained store, so one handed over right after it would overtake it. Handing the
      // next output over only once the previous one was delivered keeps them in order.
      const packet = { cmd: 'publish' as const, topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: options.qos, retain: options.retain, dup: false };
      outboundQueued += 1;
      const sent = outbound.then(
        () =>
          new Promise<void>((resolve, reject) => {
            if (broker.closed) return reject(new EdgeError('BROKER_CLOSED', 'embedded broker is not running'));
            broker.publish(packet, (error) => (error ? reject(error) : resolve()));
          }),
      );
      outbound = sent.then(
        () => void (outboundQueued -= 1),
        () => void (outboundQueued -= 1),
      );
      return sent;
    },
    connected: () => running,
    address,
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
}
