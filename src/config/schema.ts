import { z } from 'zod';
import { alarmsSchema } from './sections/alarms.js';
import { brokerSchema } from './sections/broker.js';
import { controlSchema } from './sections/control.js';
import { hmiSchema } from './sections/hmi.js';
import { httpSchema } from './sections/http.js';
import { ingestSchema } from './sections/ingest.js';
import { modelsSchema } from './sections/models.js';
import { signalsSchema } from './sections/plant.js';
import { plantGeometrySchema } from './sections/plant-geometry.js';
import { storageSchema } from './sections/storage.js';
import { syncSchema } from './sections/sync.js';
import { tagsSchema } from './sections/tags.js';
import { timeZoneSchema } from './sections/time-zone.js';
import { windowsSchema } from './sections/windows.js';

/** The one config schema (PRODUCT 4.5). Types come from it, never written twice. */
export const configSchema = z
  .object({
    site: z.string().regex(/^[A-Za-z0-9_-]+$/, 'site may use letters, digits, _ and - (it is an MQTT topic level)'),
    /** The plant's IANA time zone: the regulator's daily report runs from local midnight to midnight. */
    timezone: timeZoneSchema.default('UTC'),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).strict().prefault({}),
    status: z.object({ intervalSec: z.number().positive().default(30) }).strict().prefault({}),
    signals: signalsSchema,
    plant: plantGeometrySchema.prefault({}),
    broker: brokerSchema.prefault({}),
    ingest: ingestSchema.prefault({}),
    storage: storageSchema.prefault({}),
    windows: windowsSchema.prefault({}),
    models: modelsSchema.prefault({}),
    control: controlSchema.prefault({}),
    alarms: alarmsSchema.prefault({}),
    sync: syncSchema.prefault({}),
    http: httpSchema.prefault({}),
    tags: tagsSchema.prefault({}),
    hmi: hmiSchema.prefault({}),
  })
  .strict();
// Cross-references between sections (signals named by loops, limits, checks, tags) live in
// references.ts: they run beside the schema, not after it, so that every error is reported at once.

export type EdgeConfig = z.infer<typeof configSchema>;
export type { SignalConfig } from './sections/plant.js';
export type { LoopConfig, ControlConfig } from './sections/control.js';
export type { BrokerConfig } from './sections/broker.js';
export type { StorageConfig } from './sections/storage.js';
export type { WindowsConfig } from './sections/windows.js';
export type { SyncConfig } from './sections/sync.js';
export type { AlarmsConfig } from './sections/alarms.js';
export type { HttpConfig } from './sections/http.js';
export type { HmiConfig } from './sections/hmi.js';
export type { IngestConfig } from './sections/ingest.js';
export type { ModelsConfig } from './sections/models.js';
export type { PlantGeometry } from './sections/plant-geometry.js';
export type { TagsConfig } from './sections/tags.js';
