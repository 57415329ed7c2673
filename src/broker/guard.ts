import { isUtf8 } from 'node:buffer';
import { Duplex } from 'node:stream';
import type { Clock } from '../lib/clock.js';

/** Why the guard closed a connection. */
export type GuardRefusal = 'packet_too_large' | 'malformed_header' | 'connect_timeout' | 'idle_timeout' | 'invalid_topic' | 'invalid_string';

const CONNECT = 1;
const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;
/** Packets whose strings are checked once the packet is whole: one or a few per connection, so their bodies are copied. */
const COPIED = new Set([CONNECT, SUBSCRIBE, UNSUBSCRIBE]);

/**
 * One client connection, seen through the MQTT fixed header only. The guard taps the bytes the broker
 * reads (a `data` listener beside the broker's `readable` one: Node then emits each chunk that `read()`
 * returns, without changing the stream's pace or copying), so every packet's declared remaining
 * length is known from its first bytes and a packet larger than `maxPacketBytes` is refused before
 * the rest of its body is read (the broker's parser would otherwise hold the whole packet in memory
 * first); complete packets are counted, so the broker can close a connection that sent no CONNECT in
 * time or no packet at all for too long, whatever keepalive it asked for. A PUBLISH's topic is read
 * from the raw bytes too (MQTT 3.1.1 section 1.5.3: well-formed UTF-8 without U+0000, which the broker's
 * parser would decode into U+FFFD and pass on): such a topic closes the connection. So do such strings in
 * a SUBSCRIBE's or UNSUBSCRIBE's topic filters and a CONNECT's protocol name, client id, will topic and user
 * name (the section covers every UTF-8 string of a packet; the password and will message are binary).
 * The tap sees a chunk before the broker parses it, so `refused` is already set when the broker
 * authorizes that connect, publish or subscription.
 */
export class GuardedConnection {
  /** Complete packets received so far. */
  packets = 0;
  /** Set by the broker's sweep: the packet count it saw last and since when. */
  seenPackets = 0;
  seenSince: number;
  readonly openedAt: number;
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private length = 0;
  private lengthBytes = 0;
  private remaining = 0;
  private refused = false;
  /**
   * The topic of the PUBLISH being read: 'none' (not a PUBLISH, or past its topic), its two length bytes,
   * then its bytes. A topic within one chunk is checked where it lies; only one split across chunks is copied.
   */
  private topicState: 'none' | 'high' | 'low' | 'bytes' = 'none';
  private topicLength = 0;
  private topicCopy: Buffer | undefined;
  private topicFilled = 0;
  /** The body of a CONNECT, SUBSCRIBE or UNSUBSCRIBE being read, and how much of it has come. */
  private bodyCopy: Buffer | undefined;
  private bodyFilled = 0;

  constructor(
    readonly stream: Duplex,
    private readonly maxPacketBytes: number,
    now: number,
    private readonly onRefuse: (connection: GuardedConnection, reason: GuardRefusal, detail: string) => void,
  ) {
    this.openedAt = now;
    this.seenSince = now;
  }

  /** Starts the tap; call it after the broker attached its `readable` listener, which keeps the pace. */
  watch(): void {
    this.stream.on('data', (chunk: Buffer) => {
      this.scan(chunk);
    });
  }

  /** The connection was closed by the guard (its later packets, already read, are not to be acted on). */
  get closed(): boolean {
    return this.refused;
  }

  /** Closes the connection for `reason` (counted and logged by the broker), once. */
  refuse(reason: GuardRefusal, detail: string): void {
    if (this.refused) return;
    this.refused = true;
    this.onRefuse(this, reason, detail);
    this.stream.destroy();
  }

  /** Follows the packet boundaries in `chunk`; false when the connection was refused. */
  private scan(chunk: Buffer): boolean {
    if (this.refused) return false;
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const step = Math.min(this.remaining, chunk.length - i);
        if (this.topicState !== 'none' && !this.readTopic(chunk, i, step)) return false;
        if (this.bodyCopy) this.bodyFilled += chunk.copy(this.bodyCopy, this.bodyFilled, i, i + step);
        i += step;
        this.remaining -= step;
        if (this.remaining === 0 && !this.completed()) return false;
        continue;
      }
      const byte = chunk[i] as number;
      i += 1;
      if (this.state === 'type') {
        this.type = byte >> 4;
        this.length = 0;
        this.lengthBytes = 0;
        this.state = 'length';
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) {
          this.refuse('malformed_header', 'remaining length longer than 4 bytes');
          return false;
        }
        continue;
      }
      if (this.length > this.maxPacketBytes) {
        const kind = this.type === PUBLISH ? 'PUBLISH' : `packet type ${this.type}`;
        this.refuse('packet_too_large', `${kind} of ${this.length} bytes > maxPacketBytes ${this.maxPacketBytes}`);
        return false;
      }
      this.remaining = this.length;
      if (this.type === PUBLISH) this.topicState = 'high';
      else if (COPIED.has(this.type) && this.length > 0) {
        this.bodyCopy = Buffer.allocUnsafe(this.length);
        this.bodyFilled = 0;
      }
      if (this.remaining === 0) {
        if (!this.completed()) return false;
      } else this.state = 'body';
    }
    return true;
  }

  /** Takes the topic's bytes among `count` body bytes at `from`; false when the topic closed the connection. */
  private readTopic(chunk: Buffer, from: number, count: number): boolean {
    let k = from;
    const end = from + count;
    if (this.topicState === 'high' && k < end) {
      this.topicLength = (chunk[k++] as number) * 256;
      this.topicState = 'low';
    }
    if (this.topicState === 'low' && k < end) {
      this.topicLength += chunk[k++] as number;
      this.topicState = 'bytes';
      this.topicFilled = 0;
      // A topic longer than its packet is the parser's to refuse (a malformed packet).
      if (this.topicLength > this.remaining - (k - from)) {
        this.topicState = 'none';
        return true;
      }
      if (end - k >= this.topicLength) {
        this.topicState = 'none';
        return this.checkTopic(chunk.subarray(k, k + this.topicLength));
      }
      this.topicCopy = Buffer.allocUnsafe(this.topicLength);
    }
    if (this.topicState !== 'bytes' || !this.topicCopy || k >= end) return true;
    const take = Math.min(end - k, this.topicLength - this.topicFilled);
    chunk.copy(this.topicCopy, this.topicFilled, k, k + take);
    this.topicFilled += take;
    if (this.topicFilled < this.topicLength) return true;
    const topic = this.topicCopy;
    this.topicState = 'none';
    this.topicCopy = undefined;
    return this.checkTopic(topic);
  }

  /** MQTT 3.1.1 section 1.5.3: a topic is well-formed UTF-8 without U+0000, or the connection closes. */
  private checkTopic(topic: Buffer): boolean {
    return this.checkString(topic, 'invalid_topic', 'PUBLISH topic');
  }

  private checkString(text: Buffer, reason: GuardRefusal, what: string): boolean {
    if (!isUtf8(text)) this.refuse(reason, `${what} is not well-formed UTF-8`);
    else if (text.includes(0)) this.refuse(reason, `${what} contains U+0000`);
    return !this.refused;
  }

  /** A whole packet came; false when its strings closed the connection. */
  private completed(): boolean {
    const body = this.bodyCopy;
    this.state = 'type';
    this.topicState = 'none';
    this.topicCopy = undefined;
    this.bodyCopy = undefined;
    this.packets += 1;
    return !body || this.checkStrings(body);
  }

  /**
   * The UTF-8 strings of a whole CONNECT (MQTT 3.1 and 3.1.1), SUBSCRIBE or UNSUBSCRIBE. A packet whose
   * lengths run past its end is left to the broker's parser, which refuses it as malformed.
   */
  private checkStrings(body: Buffer): boolean {
    const reader = new StringReader(body);
    if (this.type === CONNECT) {
      const protocol = reader.next();
      if (!protocol || !this.checkString(protocol, 'invalid_string', 'CONNECT protocol name')) return !this.refused;
      const level = reader.byte();
      const flags = reader.byte();
      reader.skip(2);
      // MQTT 5 puts properties before the payload: the broker refuses that protocol level itself.
      if (level !== 3 && level !== 4) return true;
      const clientId = reader.next();
      if (!clientId || !this.checkString(clientId, 'invalid_string', 'CONNECT client id')) return !this.refused;
      if (flags & 0x04) {
        const willTopic = reader.next();
        if (!willTopic || !this.checkString(willTopic, 'invalid_topic', 'CONNECT will topic')) return !this.refused;
        reader.next();
      }
      const username = flags & 0x80 ? reader.next() : undefined;
      if (username) this.checkString(username, 'invalid_string', 'CONNECT user name');
      return !this.refused;
    }
    const what = this.type === SUBSCRIBE ? 'SUBSCRIBE topic filter' : 'UNSUBSCRIBE topic filter';
    reader.skip(2);
    for (let filter = reader.next(); filter; filter = reader.next()) {
      if (!this.checkString(filter, 'invalid_topic', what)) return false;
      if (this.type === SUBSCRIBE) reader.skip(1);
    }
    return true;
  }
}

/** Length-prefixed fields of a packet body, read in order; `next()` is undefined past the end. */
class StringReader {
  private at = 0;

  constructor(private readonly body: Buffer) {}

  byte(): number {
    const value = this.body[this.at] ?? 0;
    this.at += 1;
    return value;
  }

  skip(count: number): void {
    this.at += count;
  }

  next(): Buffer | undefined {
    if (this.at + 2 > this.body.length) return undefined;
    const length = (this.body[this.at] as number) * 256 + (this.body[this.at + 1] as number);
    const start = this.at + 2;
    if (start + length > this.body.length) return undefined;
    this.at = start + length;
    return this.body.subarray(start, start + length);
  }
}

/**
 * The open connections and one timer over them all: a connection that completed no packet (its
 * CONNECT) within `connectTimeoutMs`, or no packet for `idleTimeoutMs`, is refused. One sweep per
 * quarter of the shorter timeout, so a timeout fires at most a quarter late and no timer is set per
 * packet.
 */
export class ConnectionSweep {
  private readonly open = new Set<GuardedConnection>();
  private timer: { clear(): void } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly connectTimeoutMs: number,
    private readonly idleTimeoutMs: number,
  ) {}

  get size(): number {
    return this.open.size;
  }

  add(connection: GuardedConnection): void {
    this.open.add(connection);
    connection.stream.once('close', () => this.open.delete(connection));
    this.timer ??= this.clock.setInterval(() => this.sweep(), Math.max(50, Math.min(this.connectTimeoutMs, this.idleTimeoutMs) / 4));
  }

  connections(): readonly GuardedConnection[] {
    return [...this.open];
  }

  stop(): void {
    this.timer?.clear();
    this.timer = undefined;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const connection of this.open) {
      if (connection.packets !== connection.seenPackets) {
        connection.seenPackets = connection.packets;
        connection.seenSince = now;
      } else if (connection.packets === 0) {
        if (now - connection.openedAt >= this.connectTimeoutMs) connection.refuse('connect_timeout', `no CONNECT within ${this.connectTimeoutMs / 1000} s`);
      } else if (now - connection.seenSince >= this.idleTimeoutMs) {
        connection.refuse('idle_timeout', `no packet for ${this.idleTimeoutMs / 1000} s`);
      }
    }
  }
}
