import { connect, type Socket } from 'node:net';

/** MQTT 3.1.1 packets written by hand, for what a well-behaved client library will not send. */

function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

const str = (s: string): Buffer => {
  const body = Buffer.from(s, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(body.length);
  return Buffer.concat([length, body]);
};

export function connectPacket(opts: { clientId: string; clean?: boolean; keepalive?: number; will?: { topic: string; payload: string; qos: 0 | 1 } }): Buffer {
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(opts.keepalive ?? 30);
  const flags = (opts.clean === false ? 0 : 0x02) | (opts.will ? 0x04 | (opts.will.qos << 3) : 0);
  const variable = Buffer.concat([str('MQTT'), Buffer.from([4, flags]), keepalive]);
  const will = opts.will ? [str(opts.will.topic), str(opts.will.payload)] : [];
  const body = Buffer.concat([variable, str(opts.clientId), ...will]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A QoS 0 PUBLISH header and topic declaring `payloadBytes` of payload (the payload itself not included). */
export function publishHeader(topic: string, payloadBytes: number): Buffer {
  const t = str(topic);
  return Buffer.concat([Buffer.from([0x30]), remainingLength(t.length + payloadBytes), t]);
}

export function publishPacket(topic: string, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([publishHeader(topic, body.length), body]);
}

export interface RawClient {
  readonly socket: Socket;
  /** Everything received so far. */
  readonly received: () => Buffer;
  readonly closed: Promise<void>;
  isClosed(): boolean;
  write(bytes: Buffer): Promise<void>;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const chunks: Buffer[] = [];
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed,
    isClosed: () => isClosed,
    write: (bytes) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.write(bytes, () => resolve()))),
  };
}

/** The return code of the CONNACK at the start of `bytes`, or undefined. */
export function connackCode(bytes: Buffer): number | undefined {
  return bytes.length >= 4 && bytes[0] === 0x20 ? bytes[3] : undefined;
}
