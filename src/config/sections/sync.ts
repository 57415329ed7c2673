import { z } from 'zod';

export const syncSchema = z
  .object({
    enabled: z.boolean().default(false),
    mariadb: z
      .object({
        url: z.string().default('mariadb://root@127.0.0.1:3306/test'),
        user: z.string().optional(),
        password: z.string().optional(),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        connectTimeoutMs: z.number().int().positive().default(5_000),
        /** Prefix for the central table names (several plants or test runs in one database). */
        tablePrefix: z.string().regex(/^[A-Za-z0-9_]*$/).default(''),
        /** Verify the server certificate when TLS is on (caFile given or `?ssl=true` in the url). */
        rejectUnauthorized: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Raw readings in full, or only the window aggregates. */
    readings: z.enum(['full', 'aggregates']).default('full'),
    batchRows: z.number().int().positive().default(5_000),
    intervalMs: z.number().int().positive().default(2_000),
    backoffMinMs: z.number().int().positive().default(1_000),
    backoffMaxMs: z.number().int().positive().default(60_000),
    /** Sync lag past which an alarm is raised. */
    lagAlarmSec: z.number().positive().default(3_600),
  })
  .strict();

export type SyncConfig = z.infer<typeof syncSchema>;
