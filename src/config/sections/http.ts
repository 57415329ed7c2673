import { z } from 'zod';

export const httpSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Largest page of GET /api/v1/history. */
    maxPageRows: z.number().int().positive().default(10_000),
    /** HTTPS from the embedded broker's certificate files (broker.embedded.tls), or plain HTTP. */
    tls: z.enum(['off', 'broker']).default('off'),
  })
  .strict();

export type HttpConfig = z.infer<typeof httpSchema>;
