import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../cli/io.js';
import { STAGES } from '../contract/plant.js';
import { tagsSchema, type TagsConfig } from '../config/sections/tags.js';

/**
 * A map file (`--map FILE` of `import` and `replay`): the config's `tags` section on its own, so the
 * same file can be overlaid on a site config for the daemon (`tags:` at the top), plus optional
 * `site` and `shiftToNow` for replay. The older replay map (`time` + `columns` with scale/offset)
 * is still read: each column becomes a point whose tag is the column name.
 */
const legacySchema = z
  .object({
    site: z.string().regex(/^[A-Za-z0-9_-]+$/).default('demo'),
    time: z.object({ column: z.string(), format: z.enum(['iso', 'epoch-ms', 'epoch-s']).default('iso') }).strict(),
    shiftToNow: z.boolean().default(false),
    columns: z
      .array(
        z
          .object({ column: z.string(), stage: z.enum(STAGES), signal: z.string().regex(/^[a-z][a-z0-9_]*$/), scale: z.number().default(1), offset: z.number().default(0) })
          .strict(),
      )
      .min(1),
  })
  .strict();

const mapFileSchema = z
  .object({
    site: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
    shiftToNow: z.boolean().default(false),
    tags: tagsSchema,
  })
  .strict();

export interface MapFile {
  readonly file: string;
  readonly site: string | undefined;
  readonly shiftToNow: boolean;
  readonly tags: TagsConfig;
  /** The older replay map: readings go out as `wwtp/{site}/{stage}/{signal}`. */
  readonly legacy: boolean;
}

const issues = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

export function parseMapFile(raw: unknown, file: string): MapFile {
  if (typeof raw === 'object' && raw !== null && 'columns' in raw && !('tags' in raw)) {
    const parsed = legacySchema.safeParse(raw);
    if (!parsed.success) throw new UsageError(`map ${file}: ${issues(parsed.error)}`);
    const m = parsed.data;
    const tags = tagsSchema.parse({
      csv: { time: { column: m.time.column, format: m.time.format } },
      points: m.columns.map((c) => ({ tag: c.column, stage: c.stage, signal: c.signal, scale: c.scale, offset: c.offset })),
    });
    return { file, site: m.site, shiftToNow: m.shiftToNow, tags, legacy: true };
  }
  const parsed = mapFileSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`map ${file}: ${issues(parsed.error)}`);
  return { file, site: parsed.data.site, shiftToNow: parsed.data.shiftToNow, tags: parsed.data.tags, legacy: false };
}

export function readMapFile(file: string): MapFile {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read map ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0] ?? ''}`);
  }
  return parseMapFile(raw, file);
}
