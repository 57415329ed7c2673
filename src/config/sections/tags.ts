import { z } from 'zod';
import { STAGES } from '../../contract/plant.js';
import { parseJsonPath } from '../../mapping/json-path.js';
import { parsePattern, parseTemplate } from '../../mapping/pattern.js';
import { conversion } from '../../mapping/units.js';
import { timePatternError } from '../../mapping/time-pattern.js';
import { timeZoneSchema } from './time-zone.js';

/**
 * `tags`: the plant's own tag names, topics and units mapped onto the configured signals, used by live
 * MQTT ingest, Sparkplug, `replay` and `import` alike (docs/mapping.md).
 */
const path = z.string().describe('JSON field path');

const timestampSchema = z
  .object({
    path: path.optional(),
    column: z.string().optional(),
    /** `iso`, `epoch-ms`, `epoch-s`, or the export's own layout as a pattern (`DD.MM.YYYY hh:mm[:ss]`). */
    format: z
      .union([
        z.enum(['iso', 'epoch-ms', 'epoch-s']),
        z.string().superRefine((p, ctx) => {
          const error = timePatternError(p);
          if (error) ctx.addIssue({ code: 'custom', message: `not iso, epoch-ms, epoch-s or a time pattern: ${error}` });
        }),
      ])
      .default('iso'),
    timezone: timeZoneSchema.default('UTC'),
  })
  .strict();

const qualityValue = z.union([z.string(), z.number(), z.boolean()]);
/**
 * Where the quality is, and the plant's own codes for it (`good: [OK, 0]`, `bad: [ERR]`; they also read
 * `array.quality`); a value listed nowhere falls back to the standard reading (words, OPC codes,
 * booleans), else `bad`.
 */
const qualitySchema = z
  .object({ path: path.optional(), good: z.array(qualityValue).optional(), uncertain: z.array(qualityValue).optional(), bad: z.array(qualityValue).optional() })
  .strict();

const topicPattern = z.string().superRefine((p, ctx) => {
  const parsed = parsePattern(p);
  if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
});

const template = z.string().min(1);

/** One kind of MQTT message: topic pattern, then where in the payload value, time and quality are. */
const mqttSourceSchema = z
  .object({
    topic: topicPattern,
    /** Tag name of the message's value(s), from the topic's named levels and `{name}` of each field. */
    tag: template.optional(),
    /** JSON path of the value; omitted: the payload is a bare number (or JSON number). */
    value: path.optional(),
    /** Several tags per message, each at its own path. */
    fields: z.array(z.object({ path, tag: template }).strict()).min(1).optional(),
    /** An object whose keys are tag names and values their values. */
    object: path.optional(),
    /** An array of records, each one tag: its name, value and optional time and quality. */
    array: z
      .object({ path, tag: path, value: path, timestamp: path.optional(), quality: path.optional() })
      .strict()
      .optional(),
    timestamp: timestampSchema.optional(),
    quality: qualitySchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const modes = [s.value !== undefined || (!s.fields && s.object === undefined && !s.array), s.fields !== undefined, s.object !== undefined, s.array !== undefined].filter(Boolean);
    if (modes.length > 1) ctx.addIssue({ code: 'custom', message: 'one of value, fields, object or array per source' });
    if (s.timestamp?.column !== undefined) ctx.addIssue({ code: 'custom', message: 'an MQTT timestamp has a path, not a column', path: ['timestamp', 'column'] });
    const parsed = parsePattern(s.topic);
    if ('error' in parsed) return;
    const levels = new Set([...parsed.names, ...(s.value === undefined && (s.fields || s.object !== undefined || s.array) ? ['name'] : [])]);
    const names = [...(s.tag ? [s.tag] : []), ...(s.fields ?? []).map((f) => f.tag)].flatMap((t) => parseTemplate(t).names);
    for (const name of names) {
      if (!levels.has(name)) ctx.addIssue({ code: 'custom', message: `tag template names {${name}}, which is no level of ${s.topic}`, path: ['tag'] });
    }
    if (!s.tag && !s.fields && s.value !== undefined && !parsed.names.includes('tag') && parsed.names.length > 0) {
      ctx.addIssue({ code: 'custom', message: 'give `tag` (a template of the named levels) or name a level +tag', path: ['tag'] });
    }
    for (const p of [s.value, s.object, s.array?.path].filter((v): v is string => v !== undefined)) parseJsonPath(p);
  });

const whenSchema = z
  .object({ tag: z.string().min(1), equals: z.number().optional(), in: z.array(z.number()).min(1).optional() })
  .strict()
  .refine((w) => (w.equals === undefined) !== (w.in === undefined), { message: 'give equals or in' });

/** One plant tag onto one signal. */
const pointSchema = z
  .object({
    tag: z.string().min(1),
    stage: z.enum(STAGES),
    signal: z.string(),
    /** The tag's unit (table in docs/mapping.md); omitted: already the signal's unit. */
    unit: z.string().optional(),
    /** Applied before the unit conversion: raw counts, 4-20 mA, percent of span. */
    scale: z.number().default(1),
    offset: z.number().default(0),
    /**
     * When the value can be trusted, in the tag's unit; outside, it is stored with quality `otherwise`
     * (or dropped and counted). `when`: another tag's value (a mode flag) must read `equals` or one of `in`.
     */
    valid: z
      .object({ min: z.number().optional(), max: z.number().optional(), when: whenSchema.optional(), otherwise: z.enum(['uncertain', 'bad', 'drop']).default('bad') })
      .strict()
      .optional(),
    description: z.string().optional(),
  })
  .strict();

export const tagsSchema = z
  .object({
    mqtt: z.array(mqttSourceSchema).default([]),
    /** CSV history (`import`, `replay`): the time column; every other column is a tag of the same name. */
    csv: z
      .object({
        time: timestampSchema.extend({ column: z.string().min(1) }).strict(),
        /** The export's decimal mark: `,` reads 1234,5 and 1.234,5 (the dot grouping thousands) as 1234.5. */
        decimal: z.enum(['.', ',']).default('.'),
      })
      .strict()
      .optional(),
    points: z.array(pointSchema).default([]),
  })
  .strict();

export type TagsConfig = z.infer<typeof tagsSchema>;
export type TagPoint = TagsConfig['points'][number];
export type MqttSource = TagsConfig['mqtt'][number];

interface SignalRef {
  readonly stage: string;
  readonly id: string;
  readonly unit: string;
}

/** Cross-checks against the signals: each point's signal exists and its unit converts to the signal's. */
export function checkTags(tags: TagsConfig, signals: readonly SignalRef[], ctx: z.RefinementCtx, at: readonly (string | number)[] = ['tags']): void {
  const seen = new Map<string, number>();
  tags.points.forEach((p, i) => {
    const here = [...at, 'points', i];
    const signal = signals.find((s) => s.stage === p.stage && s.id === p.signal);
    if (!signal) {
      ctx.addIssue({ code: 'custom', message: `tag ${p.tag} maps to ${p.stage}/${p.signal}, which is not a configured signal`, path: [...here, 'signal'] });
      return;
    }
    if (p.unit !== undefined) {
      const c = conversion(p.unit, signal.unit);
      if ('error' in c) ctx.addIssue({ code: 'custom', message: `tag ${p.tag}: ${c.error}`, path: [...here, 'unit'] });
    }
    const first = seen.get(p.tag);
    if (first !== undefined) ctx.addIssue({ code: 'custom', message: `tag ${p.tag} mapped twice (also points.${first})`, path: [...here, 'tag'] });
    seen.set(p.tag, i);
    if (p.valid?.when?.tag === p.tag) ctx.addIssue({ code: 'custom', message: `tag ${p.tag}: valid.when names the tag itself`, path: [...here, 'valid', 'when', 'tag'] });
  });
}
