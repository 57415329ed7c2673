import { z } from 'zod';
import { STAGES } from '../../contract/plant.js';

export const alarmsSchema = z
  .object({
    /** More than floodLimit new alarms within floodWindowSec -> one summary alarm. */
    floodLimit: z.number().int().positive().default(10),
    floodWindowSec: z.number().positive().default(600),
    onDelaySec: z.number().nonnegative().default(60),
    offDelaySec: z.number().nonnegative().default(120),
    /** Share of a signal's range used as deadband for limit alarms. */
    deadbandFraction: z.number().nonnegative().max(0.5).default(0.02),
    maxShelveMinutes: z.number().positive().default(8 * 60),
    /** Process limits per signal: the window mean outside [low, high] raises `limit.{stage}.{signal}`. */
    limits: z
      .array(
        z
          .object({
            stage: z.enum(STAGES),
            signal: z.string(),
            low: z.number().optional(),
            high: z.number().optional(),
            severity: z.enum(['low', 'medium', 'high', 'critical']).default('medium'),
          })
          .strict(),
      )
      .default([]),
    /** Effluent consent limits (mg/L); a prediction above one raises `predicted.effluent.{signal}`. */
    effluentLimits: z.record(z.string(), z.number()).default({ nh4_n: 4, tn: 18, cod: 100, tss: 30, bod5: 10, tp: 2 }),
  })
  .strict();

export type AlarmsConfig = z.infer<typeof alarmsSchema>;
