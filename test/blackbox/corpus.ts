import { get as getSparkplug } from 'sparkplug-payload';

/**
 * The bad-input corpus: every kind of message PRODUCT.md section 4.2 (topics and payloads) and 5.2
 * (bad input never crashes, never vanishes) and MQTT 3.1.1 name, each on topics of its own so that
 * its outcome can be counted apart. A kind says what each of its messages must become: a reading
 * (a row with its key and value), a dead letter (a `deadletters` row and a message on
 * `edge/deadletter`, with its reason), or, where MQTT 3.1.1 requires the server to close the
 * connection, a closed connection with a counted metric and a log line.
 */
export type Expect =
  | { readonly as: 'reading'; readonly stage: string; readonly signal: string; readonly ts: number; readonly value: number }
  | { readonly as: 'deadletter'; readonly reason: string }
  | { readonly as: 'closed' };

export type Sender = 'plc' | 'hmi' | 'mosquitto' | 'raw';

export interface CorpusMessage {
  readonly topic: string;
  /** Raw topic bytes, for topics no client library sends (raw sender only). */
  readonly rawTopic?: Buffer;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly sender: Sender;
  readonly expect: Expect;
}

export interface CorpusKind {
  readonly name: string;
  /** Where the rule comes from. */
  readonly source: string;
  /** Messages of one copy, sent in this order (a conflicting duplicate needs its first value first). */
  messages(copy: number): CorpusMessage[];
}

export interface CorpusContext {
  readonly site: string;
  /** Event time of the corpus: a few minutes ago. */
  readonly now: number;
  readonly sparkplugGroup: string;
  /** Sparkplug node whose metric `DO3` maps to aerobic/do_zone3. */
  readonly sparkplugNode: string;
}

const codec = getSparkplug('spBv1.0');
function sparkplug(payload: Parameters<NonNullable<typeof codec>['encodePayload']>[0]): Buffer {
  if (!codec) throw new Error('sparkplug-payload has no spBv1.0 codec');
  return Buffer.from(codec.encodePayload(payload));
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const json = (o: unknown): Buffer => text(JSON.stringify(o));

export function buildCorpus(ctx: CorpusContext): CorpusKind[] {
  const S = `wwtp/${ctx.site}`;
  const { now } = ctx;
  const G = ctx.sparkplugGroup;
  // A distinct event time per kind and copy, so that every stored reading has a key of its own.
  let tick = 0;
  const ts = (): number => now - 600_000 + (tick += 1_000);

  const dead = (reason: string): Expect => ({ as: 'deadletter', reason });
  /** One message per copy on one topic. */
  const one = (name: string, source: string, topic: string, payload: (copy: number) => Buffer, expect: Expect, qos: 0 | 1 = 1, sender: Sender = 'plc'): CorpusKind => ({
    name,
    source,
    messages: (copy) => [{ topic, payload: payload(copy), qos, sender, expect }],
  });
  const reading = (name: string, source: string, stage: string, signal: string, body: (t: number, value: number) => Buffer, sender: Sender = 'plc', qos: 0 | 1 = 1): CorpusKind => ({
    name,
    source,
    messages: (copy) => {
      const t = ts();
      const value = 1 + copy / 10;
      return [{ topic: `${S}/${stage}/${signal}`, payload: body(t, value), qos, sender, expect: { as: 'reading', stage, signal, ts: t, value } }];
    },
  });

  const rawTopicKind = (name: string, rawTopic: Buffer, expect: Expect): CorpusKind => ({
    name,
    source: 'MQTT 3.1.1 1.5.3',
    messages: () => [{ topic: rawTopic.toString('utf8'), rawTopic, payload: text('1'), qos: 1, sender: 'raw', expect }],
  });

  return [
    // Valid readings, mixed in: each must be stored with its key and value.
    reading('valid JSON reading', '4.2', 'influent', 'flow', (t, v) => json({ value: v, ts: t })),
    reading('valid JSON reading, ISO-8601 ts, quality', '4.2', 'influent', 'cod', (t, v) => json({ value: v, ts: new Date(t).toISOString(), quality: 'uncertain' })),
    reading('valid reading at QoS 0', '4.2', 'influent', 'bod5', (t, v) => json({ value: v, ts: t }), 'plc', 0),
    reading('valid reading from mosquitto_pub', '4.2', 'influent', 'tss', (t, v) => json({ value: v, ts: t }), 'mosquitto'),
    reading('valid JSON reading, ts with offset', '4.2', 'influent', 'tn', (t, v) => json({ value: v, ts: new Date(t).toISOString().replace('Z', '+00:00') })),

    // Payloads that are not readings.
    one('empty payload', '4.2, 5.2 unparseable', `${S}/influent/nh4_n`, () => Buffer.alloc(0), dead('unparseable')),
    one('empty payload from mosquitto_pub -n', '4.2, 5.2 unparseable', `${S}/influent/tp`, () => Buffer.alloc(0), dead('unparseable'), 1, 'mosquitto'),
    one('whitespace only', '5.2 unparseable', `${S}/influent/po4_p`, () => text('  \t\n'), dead('unparseable')),
    one('truncated JSON', '5.2 unparseable', `${S}/influent/ph`, () => text('{"value": 7.1,'), dead('unparseable')),
    one('JSON with trailing garbage', '5.2 unparseable', `${S}/influent/temperature`, () => text('{"value": 12}x'), dead('unparseable')),
    one('single-quoted pseudo JSON', '5.2 unparseable', `${S}/influent/alkalinity`, () => text("{'value': 5}"), dead('unparseable')),
    one('hexadecimal number', '4.2 bare decimal only', `${S}/primary/cod_out`, () => text('0x1F'), dead('unparseable')),
    one('decimal comma', '4.2 bare decimal only', `${S}/primary/tss_out`, () => text('7,25'), dead('unparseable')),
    one('number with unit', '4.2 bare decimal only', `${S}/primary/sludge_flow`, () => text('12.5 m3/d'), dead('unparseable')),
    one('binary garbage', '5.2 unparseable', `${S}/primary/sludge_blanket`, (c) => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, c, 0xff, 0x10]), dead('unparseable')),
    one('invalid UTF-8 bytes', '5.2 unparseable', `${S}/primary/sludge_pump`, () => Buffer.from([0xc3, 0x28, 0x31, 0x2e, 0x35]), dead('unparseable')),
    one('binary garbage from mosquitto_pub', '5.2 unparseable', `${S}/anaerobic/orp`, () => Buffer.from([0x80, 0x81, 0xfe, 0xff, 0x7b]), dead('unparseable'), 1, 'mosquitto'),

    // Values that are not finite numbers.
    one('bare NaN', '5.2 NaN', `${S}/anaerobic/po4_p`, () => text('NaN'), dead('not_finite')),
    one('bare Infinity', '5.2 Infinity', `${S}/anaerobic/ph`, () => text('Infinity'), dead('not_finite')),
    one('bare -inf', '5.2 Infinity', `${S}/anaerobic/nh4_n`, () => text('-inf'), dead('not_finite')),
    one('bare 1e999', '5.2 Infinity', `${S}/anoxic/no3_n`, () => text('1e999'), dead('not_finite')),
    one('JSON value 1e999', '5.2 Infinity', `${S}/anoxic/nh4_n`, () => text('{"value": 1e999}'), dead('not_finite')),
    one('JSON value "NaN" string', '5.2 NaN, wrong type', `${S}/anoxic/orp`, () => json({ value: 'NaN' }), dead('wrong_type')),
    one('JSON value "Infinity" string', '5.2 Infinity, wrong type', `${S}/anoxic/do`, () => json({ value: 'Infinity' }), dead('wrong_type')),

    // Out of the physical range of the signal.
    one('above the range (pH 15)', '5.2 out of range', `${S}/aerobic/ph`, () => json({ value: 15, ts: ts() }), dead('out_of_range')),
    one('below the range (negative flow)', '5.2 out of range', `${S}/anoxic/internal_recycle_flow`, () => text('-1'), dead('out_of_range')),
    one('far above the range (1e300)', '5.2 out of range', `${S}/anoxic/carbon_dose_flow`, () => json({ value: 1e300 }), dead('out_of_range')),

    // Wrong JSON types.
    one('value as a string', '4.2 value: number', `${S}/aerobic/nh4_n`, () => json({ value: '1.8' }), dead('wrong_type')),
    one('value as a boolean', '4.2 value: number', `${S}/aerobic/no3_n`, () => json({ value: true }), dead('wrong_type')),
    one('value null', '4.2 value: number', `${S}/aerobic/mlss`, () => json({ value: null }), dead('wrong_type')),
    one('value missing', '4.2 value: number', `${S}/aerobic/airflow`, () => json({ ts: ts() }), dead('wrong_type')),
    one('JSON array', '4.2 payload shape', `${S}/aerobic/kla`, () => json([1, 2]), dead('wrong_type')),
    one('JSON string', '4.2 payload shape', `${S}/aerobic/temperature`, () => json('7.2'), dead('wrong_type')),
    one('JSON null', '4.2 payload shape', `${S}/aerobic/alkalinity`, () => text('null'), dead('wrong_type')),
    one('unknown key', '4.2 payload shape', `${S}/secondary/sludge_blanket`, () => json({ value: 1, unit: 'm' }), dead('wrong_type')),
    one('ts as a boolean', '4.2 ts: epoch ms | ISO-8601', `${S}/secondary/tss_out`, () => json({ value: 1, ts: true }), dead('wrong_type')),

    // Timestamps.
    one('ts not a date', '4.2 ts ISO-8601', `${S}/secondary/ras_flow`, () => json({ value: 1, ts: 'yesterday' }), dead('bad_timestamp')),
    one('ts far in the future', 'ingest.maxFutureSkewSec', `${S}/secondary/was_flow`, () => json({ value: 1, ts: now + 86_400_000 }), dead('bad_timestamp')),
    one('ts older than maxAgeDays', 'ingest.maxAgeDays', `${S}/secondary/ras_tss`, () => json({ value: 1, ts: 0 }), dead('bad_timestamp')),
    one('ts month 13', '4.2 ts ISO-8601', `${S}/secondary/turbidity`, () => json({ value: 1, ts: '2026-13-01T00:00:00Z' }), dead('bad_timestamp')),

    // Quality.
    one('unknown quality', '4.2 quality good|uncertain|bad', `${S}/membrane/tmp`, () => json({ value: 1, quality: 'excellent' }), dead('wrong_type')),
    one('quality as a number', '4.2 quality good|uncertain|bad', `${S}/membrane/permeate_flow`, () => json({ value: 1, quality: 192 }), dead('wrong_type')),

    // Size and topics.
    one('oversized payload (70 KB)', '5.2 oversized, broker.embedded.limits.maxPayloadBytes', `${S}/membrane/flux`, () => text(`{"value": 1, "pad": "${'x'.repeat(70_000)}"}`), dead('oversized')),
    one('unknown signal', '5.2 unknown topic', `${S}/aerobic/bb_nosuch_signal`, () => text('1'), dead('unknown_signal')),
    one('unknown stage', '5.2 unknown topic', `${S}/digester/temperature`, () => text('1'), dead('unknown_topic')),
    one('another site', 'roles: a PLC publishes its own site only', `wwtp/${ctx.site}x/aerobic/do`, () => text('1'), dead('not_authorized')),
    one('outside the wwtp/ tree', 'roles: a PLC publishes readings and Sparkplug only', `plant/${ctx.site}/do`, () => text('1'), dead('not_authorized')),
    one('too many topic levels', 'broker.embedded.limits.maxTopicLevels', `${S}/a/b/c/d/e/f/g/h`, () => text('1'), dead('topic_too_deep')),
    one('daemon output topic (setpoint) from a PLC', 'roles: only the daemon publishes setpoints', `${S}/aerobic/setpoint/do`, () => json({ value: 2 }), dead('not_authorized')),
    one('HMI command from a PLC account', 'roles: plc publishes readings only', `${S}/hmi/loops/do/mode`, () => json({ mode: 'manual', value: 2, by: 'plc' }), dead('not_authorized')),
    one('reading from an HMI account', 'roles: hmi publishes hmi/# only', `${S}/membrane/permeability`, () => text('5'), dead('not_authorized'), 1, 'hmi'),

    // MQTT 3.1.1 section 1.5.3: ill-formed UTF-8 or U+0000 in a topic closes the connection; counted and logged.
    rawTopicKind('topic with invalid UTF-8', Buffer.concat([text(`${S}/aerobic/`), Buffer.from([0xc3, 0x28])]), { as: 'closed' }),
    rawTopicKind('topic with an encoded surrogate', Buffer.concat([text(`${S}/aerobic/`), Buffer.from([0xed, 0xa0, 0x80])]), { as: 'closed' }),
    rawTopicKind('topic with U+0000', Buffer.concat([text(`${S}/aerobic/do`), Buffer.from([0])]), { as: 'closed' }),

    // Sparkplug B.
    {
      name: 'valid Sparkplug NBIRTH + NDATA',
      source: '4.2 Sparkplug B, ingest.sparkplug.metrics',
      messages: (copy) => {
        const t = ts();
        return [
          {
            topic: `spBv1.0/${G}/NBIRTH/${ctx.sparkplugNode}`,
            payload: sparkplug({ timestamp: t - 500, seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: copy }, { name: 'DO3', alias: 1, type: 'Double', value: 2.5, timestamp: t - 500 }] }),
            qos: 0 as const,
            sender: 'plc' as const,
            expect: { as: 'reading' as const, stage: 'aerobic', signal: 'do_zone3', ts: t - 500, value: 2.5 },
          },
          {
            topic: `spBv1.0/${G}/NDATA/${ctx.sparkplugNode}`,
            payload: sparkplug({ timestamp: t, seq: 1, metrics: [{ alias: 1, type: 'Double', value: 2.75, timestamp: t }] }),
            qos: 0 as const,
            sender: 'plc' as const,
            expect: { as: 'reading' as const, stage: 'aerobic', signal: 'do_zone3', ts: t, value: 2.75 },
          },
        ];
      },
    },
    one('Sparkplug garbage bytes', '4.2 Sparkplug B', `spBv1.0/${G}/NDATA/bbgarbage`, () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]), dead('sparkplug_decode')),
    one('Sparkplug JSON instead of protobuf', '4.2 Sparkplug B', `spBv1.0/${G}/DDATA/bbjson/dev1`, () => json({ timestamp: now, metrics: [] }), dead('sparkplug_decode')),
    one('Sparkplug unmapped metric', 'ingest.sparkplug.metrics', `spBv1.0/${G}/NDATA/bbunmapped`, () => sparkplug({ timestamp: now, seq: 0, metrics: [{ name: 'Mystery', type: 'Double', value: 1 }] }), dead('sparkplug_unknown_metric')),
    one('Sparkplug unknown message type', '4.2 Sparkplug B topic', `spBv1.0/${G}/NFOO/bbtype`, () => text('x'), dead('unknown_topic')),
    one('Sparkplug topic without node', '4.2 Sparkplug B topic', `spBv1.0/${G}/NDATA`, () => text('x'), dead('unknown_topic')),
    one(
      'Sparkplug mapped metric out of range',
      '5.2 out of range',
      `spBv1.0/${G}/NDATA/${ctx.sparkplugNode}r`,
      () => sparkplug({ timestamp: now, seq: 0, metrics: [{ name: 'DO3', type: 'Double', value: 99 }] }),
      dead('out_of_range'),
    ),

    // HMI commands with bad bodies.
    one('HMI ack, body not JSON', '4.2 hmi/alarms/{id}/ack', `${S}/hmi/alarms/bb.a1/ack`, () => text('ack!'), dead('invalid_command'), 1, 'hmi'),
    one('HMI ack without by', '4.2 hmi/alarms/{id}/ack', `${S}/hmi/alarms/bb.a2/ack`, () => json({ comment: 'x' }), dead('invalid_command'), 1, 'hmi'),
    one('HMI ack with bad alarm id', '4.2 hmi/alarms/{id}/ack', `${S}/hmi/alarms/bad id!/ack`, () => json({ by: 'op' }), dead('invalid_command'), 1, 'hmi'),
    one('HMI mode unknown mode', '4.2 hmi/loops/{loop}/mode', `${S}/hmi/loops/carbon_dose/mode`, () => json({ mode: 'turbo', by: 'op' }), dead('invalid_command'), 1, 'hmi'),
    one('HMI mode unknown loop', '4.2 hmi/loops/{loop}/mode', `${S}/hmi/loops/bb_noloop/mode`, () => json({ mode: 'manual', value: 1, by: 'op' }), dead('invalid_command'), 1, 'hmi'),
    one('HMI mode value as string', '4.2 hmi/loops/{loop}/mode', `${S}/hmi/loops/was_flow/mode`, () => json({ mode: 'manual', value: 'high', by: 'op' }), dead('invalid_command'), 1, 'hmi'),
    one('HMI unknown command topic', '4.2 hmi topics', `${S}/hmi/alarms/bb.a3/explode`, () => json({ by: 'op' }), dead('unknown_topic'), 1, 'hmi'),

    // MQTT 3.1.1 section 3.3.2.1 (no wildcards in a PUBLISH topic), 4.7.3 (at least one character),
    // 1.5.3 (well-formed UTF-8): the server closes the connection; counted and logged.
    { name: 'PUBLISH to +', source: 'MQTT 3.1.1 3.3.2.1', messages: () => [{ topic: '+', payload: text('1'), qos: 1, sender: 'raw', expect: { as: 'closed' } }] },
    { name: 'PUBLISH to #', source: 'MQTT 3.1.1 3.3.2.1', messages: () => [{ topic: '#', payload: text('1'), qos: 1, sender: 'raw', expect: { as: 'closed' } }] },
    { name: 'PUBLISH to a topic with +', source: 'MQTT 3.1.1 3.3.2.1', messages: () => [{ topic: `${S}/+/do`, payload: text('1'), qos: 1, sender: 'raw', expect: { as: 'closed' } }] },
    { name: 'PUBLISH to a topic ending in #', source: 'MQTT 3.1.1 3.3.2.1', messages: () => [{ topic: `${S}/aerobic/#`, payload: text('1'), qos: 0, sender: 'raw', expect: { as: 'closed' } }] },
    { name: 'PUBLISH to an empty topic', source: 'MQTT 3.1.1 4.7.3', messages: () => [{ topic: '', payload: text('1'), qos: 1, sender: 'raw', expect: { as: 'closed' } }] },
    // Impossible calendar dates: rejected, never rolled over into the next month.
    one('ts 31 February', '4.2 ts ISO-8601', `${S}/effluent/bod5`, () => json({ value: 1, ts: '2026-02-31T00:00:00Z' }), dead('bad_timestamp')),
    one('ts 31 April', '4.2 ts ISO-8601', `${S}/effluent/tss`, () => json({ value: 1, ts: '2026-04-31T12:00:00Z' }), dead('bad_timestamp')),
    one('ts 29 February of a common year', '4.2 ts ISO-8601', `${S}/effluent/tn`, () => json({ value: 1, ts: '2025-02-29T00:00:00Z' }), dead('bad_timestamp')),
    one('ts 24:30', '4.2 ts ISO-8601', `${S}/effluent/nh4_n`, () => json({ value: 1, ts: '2026-03-01T24:30:00Z' }), dead('bad_timestamp')),

    // Empty Sparkplug payloads.
    one('empty Sparkplug NDATA', '4.2 Sparkplug B', `spBv1.0/${G}/NDATA/bbempty1`, () => Buffer.alloc(0), dead('sparkplug_decode')),
    one('empty Sparkplug NBIRTH', '4.2 Sparkplug B', `spBv1.0/${G}/NBIRTH/bbempty2`, () => Buffer.alloc(0), dead('sparkplug_decode')),
    one('empty Sparkplug DDATA', '4.2 Sparkplug B', `spBv1.0/${G}/DDATA/bbempty3/dev1`, () => Buffer.alloc(0), dead('sparkplug_decode')),

    // The same key with another value: the stored value stays, the new one leaves a dead letter.
    {
      name: 'conflicting duplicate',
      source: '4.4 natural key (site, stage, signal, ts), 5.1',
      messages: (copy) => {
        const t = ts();
        const topic = `${S}/membrane/turbidity`;
        return [
          { topic, payload: json({ value: 10 + copy / 10, ts: t }), qos: 1, sender: 'plc', expect: { as: 'reading', stage: 'membrane', signal: 'turbidity', ts: t, value: 10 + copy / 10 } },
          { topic, payload: json({ value: 20 + copy / 10, ts: t }), qos: 1, sender: 'plc', expect: dead('conflicting_duplicate') },
        ];
      },
    },

    // The same key twice with the same value: one row.
    {
      name: 'exact duplicate',
      source: '4.4 natural key (site, stage, signal, ts)',
      messages: (copy) => {
        const t = ts();
        const m = { topic: `${S}/effluent/cod`, payload: json({ value: 30 + copy, ts: t }), qos: 1 as const, sender: 'plc' as const };
        const expect = { as: 'reading' as const, stage: 'effluent', signal: 'cod', ts: t, value: 30 + copy };
        return [
          { ...m, expect },
          { ...m, expect },
        ];
      },
    },
  ];
}
