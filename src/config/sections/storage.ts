import { z } from 'zod';

export const storageSchema = z
  .object({
    path: z.string().default('data/wwtp-edge.sqlite'),
    /** Disk budget for the SQLite file (with WAL); past it the shedding order applies. */
    maxBytes: z.number().int().positive().default(8 * 1024 ** 3),
    /** Longest wait of the rows that gather while a commit waits for its fsync, ms (a commit goes at once otherwise). */
    groupCommitMs: z.number().nonnegative().default(5),
    /** Rows per group commit at most. */
    maxBatchRows: z.number().int().positive().default(5_000),
    /** Rows waiting for commit at most; further readings are refused (not acked) and counted. */
    maxPendingRows: z.number().int().positive().default(200_000),
    /**
     * SQLite synchronous mode in WAL. `full` fsyncs the WAL on every group commit, so an acknowledged
     * reading survives a power cut; `normal` survives a killed process only (docs/storage.md).
     */
    synchronous: z.enum(['full', 'normal']).default('full'),
    /** How often the disk budget and retention are checked, ms. */
    budgetCheckMs: z.number().int().positive().default(5_000),
    retentionDays: z
      .object({
        readings: z.number().positive().default(400),
        deadletters: z.number().positive().default(30),
        derived: z.number().positive().default(400),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type StorageConfig = z.infer<typeof storageSchema>;
