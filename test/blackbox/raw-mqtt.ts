import { connect, type Socket } from 'node:net';

/**
 * MQTT 3.1.1 packets written byte by byte, for what a well-behaved client library refuses to send:
 * wildcards or invalid UTF-8 in a PUBLISH topic (or in a filter, client id, will topic or user name), a zero-length client id with a persistent session,
 * a declared length far beyond what is sent.
 */
export function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

function field(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export interface ConnectOptions {
  clientId: Buffer | string;
  cleanSession?: boolean;
  keepaliveSec?: number;
  username?: Buffer | string;
  password?: string;
  will?: { topic: Buffer | string; message: string };
}

export function connectPacket(o: ConnectOptions): Buffer {
  let flags = o.cleanSession === false ? 0 : 0x02;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  if (o.will) flags |= 0x04;
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(o.keepaliveSec ?? 60);
  const body = Buffer.concat([
    field('MQTT'),
    Buffer.from([4, flags]),
    keepalive,
    field(o.clientId),
    ...(o.will ? [field(o.will.topic), field(o.will.message)] : []),
    ...(o.username !== undefined ? [field(o.username)] : []),
    ...(o.password !== undefined ? [field(o.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A PUBLISH whose topic is given as raw bytes; QoS 1 carries packet id 1. */
export function publishPacket(topic: Buffer | string, payload: Buffer | string, qos: 0 | 1 = 1): Buffer {
  const body = Buffer.concat([field(topic), qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0), typeof payload === 'string' ? Buffer.from(payload) : payload]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body]);
}

/** A SUBSCRIBE (packet id 2) to `filters` at QoS 1, the filters given as raw bytes. */
export function subscribePacket(filters: readonly (Buffer | string)[]): Buffer {
  const body = Buffer.concat([Buffer.from([0, 2]), ...filters.flatMap((f) => [field(f), Buffer.from([1])])]);
  return Buffer.concat([Buffer.from([0x82]), remainingLength(body.length), body]);
}

/** An UNSUBSCRIBE (packet id 3) from `filters`, given as raw bytes. */
export function unsubscribePacket(filters: readonly (Buffer | string)[]): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3]), ...filters.map((f) => field(f))]);
  return Buffer.concat([Buffer.from([0xa2]), remainingLength(body.length), body]);
}

/** A raw connection that records what the broker sent and when it closed. */
export interface RawClient {
  readonly socket: Socket;
  readonly received: Buffer[];
  closed(): boolean;
  /** Resolves true when the broker closed the connection within `ms`. */
  waitClosed(ms: number): Promise<boolean>;
  /** The CONNACK return code (0 accepted), or undefined if none came within `ms`. */
  connack(ms: number): Promise<number | undefined>;
  /** Packet types (high nibble of the first byte) of everything received so far. */
  types(): number[];
}

export function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let closed = false;
    const closeWaiters: (() => void)[] = [];
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      for (const w of closeWaiters.splice(0)) w();
    });
    socket.once('connect', () =>
      resolve({
        socket,
        received,
        closed: () => closed,
        waitClosed(ms) {
          if (closed) return Promise.resolve(true);
          return new Promise((res) => {
            const timer = setTimeout(() => res(closed), ms);
            closeWaiters.push(() => {
              clearTimeout(timer);
              res(true);
            });
          });
        },
        async connack(ms) {
          const deadline = Date.now() + ms;
          for (;;) {
            const all = Buffer.concat(received);
            if (all.length >= 4 && all[0] === 0x20) return all[3];
            if (closed || Date.now() > deadline) return undefined;
            await new Promise((r) => setTimeout(r, 10));
          }
        },
        types() {
          const all = Buffer.concat(received);
          const out: number[] = [];
          let i = 0;
          while (i < all.length) {
            out.push((all[i] ?? 0) >> 4);
            let mult = 1;
            let len = 0;
            let j = i + 1;
            for (;;) {
              const b = all[j++] ?? 0;
              len += (b & 0x7f) * mult;
              mult *= 128;
              if ((b & 0x80) === 0 || j >= all.length) break;
            }
            i = j + len;
          }
          return out;
        },
      }),
    );
    socket.once('error', reject);
  });
}
