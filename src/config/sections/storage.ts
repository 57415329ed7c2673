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
    /**
     * With `synchronous: full`, a group commit of at most this many rows has its WAL fsync done in place on
     * the event loop while the disk's recent in-place fsyncs average under 1 ms (cheaper than the hand-off
     * to a thread for a lone PLC's commit); larger commits, and any on a slow disk, are fsynced on the
     * thread pool. 0: always on the thread pool (src/store/wal-sync.ts).
     */
    inlineFsyncRows: z.number().int().nonnegative().default(16),
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
