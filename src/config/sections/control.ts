import { z } from 'zod';
import { LOOP_IDS, STAGES, type LoopId } from '../../contract/plant.js';

export const loopSchema = z
  .object({
    id: z.enum(LOOP_IDS as [LoopId, ...LoopId[]]),
    stage: z.enum(STAGES),
    unit: z.string(),
    enabled: z.boolean().default(true),
    min: z.number(),
    max: z.number(),
    /** Largest change between two published setpoints. */
    maxStep: z.number().positive(),
    /** Published when inputs are stale or anomalous. */
    fallback: z.number(),
    /** Extra knobs of the loop's policy (targets, gains). */
    params: z.record(z.string(), z.number()).default({}),
    /**
     * The measured value the setpoint acts on, `stage.signal` in the loop's unit (e.g. the recycle pump's
     * flow). Bumpless start: when no setpoint of the daemon is in effect (first start, or the last one
     * expired and the PLC went back to its local setpoint), the step limit counts from this value.
     */
    feedback: z.string().regex(/^[a-z_]+\.[a-z0-9_]+$/).optional(),
  })
  .strict()
  .refine((l) => l.max > l.min, { message: 'max must be greater than min', path: ['max'] })
  .refine((l) => l.fallback >= l.min && l.fallback <= l.max, { message: 'fallback must lie inside [min, max]', path: ['fallback'] });

export const controlSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Setpoints are computed once per window close; validUntil = ts + validForSec. */
    validForSec: z.number().positive().default(900),
    loops: z.array(loopSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.loops.forEach((l, i) => {
      if (seen.has(l.id)) ctx.addIssue({ code: 'custom', message: `duplicate loop ${l.id}`, path: ['loops', i, 'id'] });
      seen.add(l.id);
    });
  });

export type ControlConfig = z.infer<typeof controlSchema>;
export type LoopConfig = z.infer<typeof loopSchema>;
