import { z } from 'zod';
import { STAGES } from '../../contract/plant.js';

const sparkplugMetricSchema = z
  .object({
    group: z.string().optional(),
    node: z.string(),
    device: z.string().optional(),
    metric: z.string(),
    stage: z.enum(STAGES),
    signal: z.string(),
  })
  .strict();

export const ingestSchema = z
  .object({
    /** Readings stamped further than this into the future are rejected (bad_timestamp). */
    maxFutureSkewSec: z.number().nonnegative().default(300),
    /** Readings older than this are rejected (bad_timestamp); replays of history raise it. */
    maxAgeDays: z.number().positive().default(3650),
    /** Larger payloads are rejected (oversized); the embedded broker applies its own limit first. */
    maxPayloadBytes: z.number().int().positive().default(65_536),
    /** Readings handed to the store in one append at most; a burst is cut into such batches. */
    maxBatchReadings: z.number().int().positive().default(2_000),
    sparkplug: z
      .object({ enabled: z.boolean().default(true), group: z.string().optional(), metrics: z.array(sparkplugMetricSchema).default([]) })
      .strict()
      .prefault({}),
  })
  .strict();

export type IngestConfig = z.infer<typeof ingestSchema>;
