import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { STAGES } from '../contract/plant.js';
import { UsageError } from '../cli/io.js';

/** How a CSV's columns become readings: the `--map FILE` of `wwtp-edge replay`. */
export const replayMapSchema = z
  .object({
    site: z.string().regex(/^[A-Za-z0-9_-]+$/).default('demo'),
    time: z
      .object({
        column: z.string(),
        /** iso: ISO-8601 or "YYYY-MM-DD hh:mm:ss" (UTC unless the text says otherwise); epoch-ms; epoch-s. */
        format: z.enum(['iso', 'epoch-ms', 'epoch-s']).default('iso'),
      })
      .strict(),
    /** Shift every timestamp so that the first row is "now" (live-looking replays). */
    shiftToNow: z.boolean().default(false),
    columns: z
      .array(
        z
          .object({
            column: z.string(),
            stage: z.enum(STAGES),
            signal: z.string().regex(/^[a-z][a-z0-9_]*$/),
            scale: z.number().default(1),
            offset: z.number().default(0),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type ReplayMap = z.infer<typeof replayMapSchema>;

export function readReplayMap(file: string): ReplayMap {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read map ${file}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  const parsed = replayMapSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UsageError(`map ${file}: ${first}`);
  }
  return parsed.data;
}
