import { readFile } from 'node:fs/promises';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { BrokerConfig } from '../config/sections/broker.js';
import { inTopics, outTopic } from '../contract/topics.js';
import { systemClock } from '../lib/clock.js';
import { EdgeError } from '../lib/lifecycle.js';
import { counter, gauge } from './metrics.js';
import { OfflineQueue, type QueuedPublish } from './offline-queue.js';
import { InFlight } from './in-flight.js';
import type { Broker, BrokerContext, PublishOptions } from './types.js';

const FIRST_CONNECT_WAIT_MS = 5_000;
const DRAIN_TIMEOUT_MS = 4_000;
const END_TIMEOUT_MS = 3_000;

/**
 * MQTT.js sends the PUBACK of a QoS 1 message only after the custom ack handler answers, and it
 * handles the connection's packets one at a time until then: waiting there for the SQLite commit
 * would allow one message per commit. So the handler answers at once with this marker (no PUBACK,
 * next packet), and the PUBACK is written by hand once the message is committed.
 */
class DeferredAck extends Error {
  constructor() {
    super('puback deferred until commit');
  }
}
const DEFERRED = new DeferredAck();

/** The one internal of MQTT.js used: writing a PUBACK without going through its stores. */
interface PacketWriter {
  _sendPacket(packet: { cmd: 'puback'; messageId: number }, cb?: (error?: Error) => void, cbStorePut?: undefined, noStore?: boolean): void;
}

export function backoffMs(attempt: number, minMs: number, maxMs: number, random: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random / 2));
}

/** The plant's own broker (Mosquitto, EMQX, HiveMQ) through MQTT.js, with a persistent session. */
export function createExternalBroker(config: BrokerConfig['external'], ctx: BrokerContext & { readonly subscriptions?: readonly string[] }): Broker {
  const log = ctx.logger;
  const clock = ctx.clock ?? systemClock;
  const statusTopic = outTopic(ctx.site, 'status', {});
  const topics = ctx.subscriptions ?? [...Object.values(inTopics(ctx.site)), ...(ctx.plantTopics ?? [])];
  const dropped = counter(ctx.metrics.registry, 'wwtp_edge_mqtt_offline_dropped_total', 'Outbound messages dropped from the full offline queue');
  const redeliveries = counter(ctx.metrics.registry, 'wwtp_edge_mqtt_unacked_total', 'Inbound QoS 1 messages left unacknowledged so the broker resends them');
  const reconnects = counter(ctx.metrics.registry, 'wwtp_edge_mqtt_reconnects_total', 'Reconnect attempts to the external broker');
  const offlineDepth = gauge(ctx.metrics.registry, 'wwtp_edge_mqtt_offline_queue', 'Outbound messages waiting for the external broker');
  const connectionListeners = new Set<(connected: boolean) => void>();
  const queue = new OfflineQueue(config.maxOfflineQueue, (item) => {
    dropped.inc();
    ctx.metrics.queueOverflow.inc({ queue: 'mqtt_offline' });
    item.reject(new EdgeError('MQTT_OFFLINE_QUEUE_FULL', `offline queue full: dropped ${item.topic}`));
  });
  let client: MqttClient | undefined;
  let intakeOpen = false;
  let closing = false;
  let attempt = 0;
  let reconnectTimer: { clear(): void } | undefined;
  const inFlight = new InFlight(clock);
  let stopping: Promise<void> | undefined;
  let intakeStopping: Promise<void> | undefined;
  const url = new URL(config.url);
  const tcpPort = Number(url.port) || (url.protocol === 'mqtts:' || url.protocol === 'ssl:' ? 8883 : 1883);

  const send = (c: MqttClient, item: QueuedPublish): void => {
    c.publish(item.topic, item.payload, { qos: item.qos, retain: item.retain }, (error) => (error ? item.reject(error) : item.resolve()));
  };

  const flushQueue = (c: MqttClient): void => {
    for (const item of queue.takeAll()) send(c, item);
    offlineDepth.set(0);
  };

  const handleInbound = (c: MqttClient, packet: IPublishPacket, topic: string, payload: Buffer, answer?: (error: Error | number) => void): void => {
    if (!intakeOpen) {
      answer?.(DEFERRED);
      return;
    }
    const stream = c.stream;
    const qos = packet.qos;
    inFlight.take();
    let done = false;
    const ack = (ok: boolean): void => {
      if (done) return;
      done = true;
      inFlight.release();
      if (qos === 0) return;
      const sameConnection = c.connected && c.stream === stream;
      if (ok && sameConnection && packet.messageId !== undefined) {
        if (qos === 1) (c as unknown as PacketWriter)._sendPacket({ cmd: 'puback', messageId: packet.messageId }, undefined, undefined, true);
        return;
      }
      if (!ok) {
        redeliveries.inc();
        // Without a PUBACK the broker resends the message only on a new connection.
        if (sameConnection) stream.destroy();
      }
    };
    if (qos === 1) answer?.(DEFERRED);
    const message = { topic, payload, qos, retain: packet.retain };
    try {
      ctx.onMessage(message, qos === 2 ? (ok) => { ack(true); answer?.(ok ? 0 : DEFERRED); } : ack);
    } catch (error) {
      ctx.metrics.handlerErrors.inc({ component: 'broker' });
      log.error({ err: String(error), topic }, 'message handler threw');
      ack(false);
    }
  };

  const scheduleReconnect = (): void => {
    if (closing || reconnectTimer) return;
    const delay = backoffMs(attempt, config.reconnectMinMs, config.reconnectMaxMs, Math.random());
    attempt += 1;
    reconnectTimer = clock.setTimeout(() => {
      reconnectTimer = undefined;
      if (closing || !client || client.connected) return;
      reconnects.inc();
      client.reconnect();
    }, delay);
  };

  const notify = (connected: boolean): void => {
    for (const listener of connectionListeners) listener(connected);
  };

  const stopIntake = (): Promise<void> => {
    intakeStopping ??= (async () => {
      // Subscriptions stay: with a persistent session the broker keeps queueing for the next start.
      intakeOpen = false;
      await inFlight.drain(ctx.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      // The last PUBACKs are written on the next tick (mqtt-packet corks the socket): let them out.
      await new Promise((resolve) => setImmediate(resolve));
    })();
    return intakeStopping;
  };

  return {
    name: 'broker',
    async start(signal) {
      const [ca, cert, key] = await Promise.all([config.caFile, config.certFile, config.keyFile].map((f) => (f ? readFile(f) : Promise.resolve(undefined))));
      const options: IClientOptions = {
        clientId: config.clientId ?? `wwtp-edge-${ctx.site}`,
        clean: config.cleanSession,
        // MQTT 5: MQTT.js offers manual acks only on it, and the receive maximum lets many QoS 1
        // messages wait for their commit at once instead of the broker's small default window.
        protocolVersion: 5,
        properties: { sessionExpiryInterval: config.cleanSession ? 0 : config.sessionExpirySec, receiveMaximum: config.receiveMaximum },
        keepalive: config.keepaliveSec,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        queueQoSZero: false,
        resubscribe: true,
        will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
        customHandleAcks: (topic, message, packet: IPublishPacket, answer) => {
          if (client) handleInbound(client, packet, topic, message, answer);
        },
        ...(config.username !== undefined ? { username: config.username } : {}),
        ...(config.password !== undefined ? { password: config.password } : {}),
        ...(ca ? { ca } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
      };
      intakeOpen = true;
      const c = connect(config.url, options);
      client = c;
      c.on('message', (topic, payload, packet) => {
        if (packet.qos === 0) handleInbound(c, packet, topic, payload);
      });
      c.on('error', (error) => {
        if (error instanceof DeferredAck) return;
        log.warn({ err: error.message, url: config.url }, 'external broker error');
      });
      c.on('connect', (connack) => {
        attempt = 0;
        log.info({ url: config.url, sessionPresent: connack.sessionPresent }, 'connected to external broker');
        notify(true);
        flushQueue(c);
      });
      c.on('close', () => {
        if (!closing) {
          notify(false);
          scheduleReconnect();
        }
      });
      const subscribed = new Promise<void>((resolve) => {
        c.subscribe([...topics], { qos: 1 }, (error) => {
          if (error) log.error({ err: error.message, topics }, 'subscribe failed');
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          log.warn({ url: config.url }, 'external broker not reachable yet; retrying in the background');
          done();
          resolve();
        }, FIRST_CONNECT_WAIT_MS);
        const onConnect = (): void => {
          void subscribed.then(() => {
            done();
            resolve();
          });
        };
        const onAbort = (): void => {
          done();
          reject(new Error('broker start cancelled'));
        };
        const done = (): void => {
          timer.clear();
          c.off('connect', onConnect);
          c.off('close', onClose);
          signal.removeEventListener('abort', onAbort);
        };
        // Unreachable at boot: the daemon starts anyway (readiness shows it) and keeps retrying.
        const onClose = (): void => {
          log.warn({ url: config.url }, 'external broker not reachable yet; retrying in the background');
          done();
          resolve();
        };
        c.once('connect', onConnect);
        c.once('close', onClose);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    stopIntake,
    stop() {
      stopping ??= (async () => {
        await stopIntake();
        closing = true;
        reconnectTimer?.clear();
        const c = client;
        if (!c) return;
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(() => c.end(true, {}, () => resolve()), END_TIMEOUT_MS);
          c.end(false, {}, () => {
            timer.clear();
            resolve();
          });
        });
        for (const item of queue.takeAll()) item.reject(new EdgeError('BROKER_CLOSED', 'broker stopped'));
        notify(false);
      })();
      return stopping;
    },
    publish(topic: string, payload: string | Buffer, options: PublishOptions): Promise<void> {
      return new Promise((resolve, reject) => {
        const item: QueuedPublish = { topic, payload, qos: options.qos, retain: options.retain, resolve, reject };
        if (closing || !client) {
          reject(new EdgeError('BROKER_CLOSED', 'external broker client is not running'));
        } else if (client.connected) {
          send(client, item);
        } else {
          queue.push(item);
          offlineDepth.set(queue.size);
        }
      });
    },
    connected: () => client?.connected === true,
    address: () => ({ tcpPort, wsPort: undefined, tlsPort: undefined }),
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
}
