import { z } from 'zod';
import { STAGES } from '../../contract/plant.js';

const signalId = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case signal id');

export const signalSchema = z
  .object({
    stage: z.enum(STAGES),
    id: signalId,
    unit: z.string().min(1),
    min: z.number(),
    max: z.number(),
    periodSec: z.number().positive(),
    description: z.string().optional(),
  })
  .strict()
  .refine((s) => s.max > s.min, { message: 'max must be greater than min', path: ['max'] });

export const signalsSchema = z
  .array(signalSchema)
  .min(1)
  .superRefine((signals, ctx) => {
    const seen = new Set<string>();
    signals.forEach((s, i) => {
      const key = `${s.stage}/${s.id}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `duplicate signal ${key}`, path: [i, 'id'] });
      seen.add(key);
    });
  });

export type SignalConfig = z.infer<typeof signalSchema>;
