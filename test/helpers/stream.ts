import mqtt, { type MqttClient } from 'mqtt';

/** One QoS 1 message of a stream and what marks it as acknowledged. */
export interface StreamMessage<K> {
  readonly topic: string;
  readonly payload: string;
  readonly key: K;
}

/**
 * Streams QoS 1 messages `next(0)`, `next(1)`, … into the broker on `port` with 200 in flight (like a
 * PLC gateway with a deep queue), adding each acknowledged message's key to `acked`, and calls `kill`
 * once `acked` holds `killAfter` keys. Resolves when the connection closed.
 */
export async function streamUntilKilled<K>(
  port: number,
  clientId: string,
  next: (n: number) => StreamMessage<K>,
  acked: Set<K>,
  killAfter: number,
  kill: () => void,
): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId });
  client.on('error', () => undefined);
  let n = 0;
  let killed = false;
  await new Promise<void>((resolve) => {
    client.once('close', () => resolve());
    const pump = (): void => {
      while (!killed && n - acked.size < 200) {
        const { topic, payload, key } = next(n);
        n += 1;
        client.publish(topic, payload, { qos: 1 }, (error) => {
          if (error) return;
          acked.add(key);
          if (!killed && acked.size >= killAfter) {
            killed = true;
            kill();
          }
          pump();
        });
      }
    };
    pump();
  });
  client.end(true);
}

/** Counts of a paced stream; `acked` keeps counting the acknowledgements that come after it stopped. */
export interface PacedStream {
  sent: number;
  acked: number;
}

/**
 * Publishes QoS 1 readings of `signals` (`stage/signal`) under `wwtp/<site>/` at `rate` per second,
 * round robin, event time following wall time (one ms apart at least per signal), values 1.0 to 1.6,
 * until `done(stream)` holds (checked every 10 ms) or `limit` readings were sent.
 */
export async function publishAtRate(
  client: MqttClient,
  site: string,
  signals: readonly string[],
  rate: number,
  done: (stream: PacedStream) => boolean,
  limit = Infinity,
): Promise<PacedStream> {
  const last = new Map<string, number>();
  const stream: PacedStream = { sent: 0, acked: 0 };
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const pump = setInterval(() => {
      const due = Math.min(Math.floor(((Date.now() - started) / 1000) * rate), limit);
      while (stream.sent < due) {
        const signal = signals[stream.sent % signals.length] as string;
        const ts = Math.max((last.get(signal) ?? 0) + 1, Date.now());
        last.set(signal, ts);
        stream.sent += 1;
        client.publish(`wwtp/${site}/${signal}`, JSON.stringify({ value: 1 + (stream.sent % 7) / 10, ts }), { qos: 1 }, (error) => {
          if (!error) stream.acked += 1;
        });
      }
      if (stream.sent >= limit || done(stream)) {
        clearInterval(pump);
        resolve();
      }
    }, 10);
  });
  return stream;
}

/** Eight signals of the default plant, for a paced stream. */
export const PACED_SIGNALS: readonly string[] = ['aerobic/do', 'aerobic/do_zone3', 'aerobic/nh4_n', 'aerobic/no3_n', 'anoxic/no3_n', 'anoxic/orp', 'anoxic/do', 'anoxic/nh4_n'];

/**
 * Env of a flood of process alarms under a paced stream: one-second windows, a high limit of 0.5 on the
 * first five of `signals` (the stream's values are 1.0 to 1.6, so all five are exceeded at once), a flood
 * past two alarms.
 */
export function alarmFloodEnv(signals: readonly string[]): Record<string, string> {
  return {
    WWTP_EDGE_WINDOWS__SIZE_SEC: '1',
    WWTP_EDGE_WINDOWS__SLIDE_SEC: '1',
    WWTP_EDGE_WINDOWS__ALLOWED_LATENESS_SEC: '0',
    WWTP_EDGE_ALARMS__ON_DELAY_SEC: '2',
    WWTP_EDGE_ALARMS__FLOOD_LIMIT: '2',
    WWTP_EDGE_ALARMS__LIMITS: `[${signals
      .slice(0, 5)
      .map((s) => s.split('/'))
      .map(([stage, signal]) => `{stage: ${stage}, signal: ${signal}, high: 0.5, severity: medium}`)
      .join(', ')}]`,
  };
}
