import { z } from 'zod';

/** The operator's web HMI served on the HTTP listener (login with broker.embedded.users). */
export const hmiSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A session ends after this long without a request. */
    sessionIdleMin: z.number().positive().default(480),
    /** Sessions kept at once; the oldest goes first. */
    maxSessions: z.number().int().positive().default(100),
    /** Browsers on the live event stream at once; more are refused with 503. */
    maxLiveClients: z.number().int().positive().default(32),
    /** Live readings are sent to browsers at most this often. */
    liveIntervalMs: z.number().int().positive().default(500),
  })
  .strict();

export type HmiConfig = z.infer<typeof hmiSchema>;
