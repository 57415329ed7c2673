export { createSync, type Sync, type SyncContext, type SyncStatus, type TableSyncStatus, type SyncLagEvent, type SyncStore } from './sync.js';
export { createMariadbSink, connectionOptions } from './mariadb-sink.js';
export { createMemorySink, keyFields, type MemorySink } from './memory-sink.js';
export { naturalKey, type CentralSink } from './central.js';
export { backoffDelay } from './backoff.js';
export { CENTRAL_MIGRATIONS, createTableSql, insertSql } from './mariadb-schema.js';
