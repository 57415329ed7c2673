export { createStore, CENTRAL_TARGET, type Store, type StoreContext, type SyncCursor } from './store.js';
export { SHED_ORDER, type SheddingInfo, type ShedCount } from './budget.js';
export { isHistoryTable, parseCursor, type HistoryPage, type SiteRow, type SeqBatch } from './reader.js';
export { TABLE_SPECS, type TableSpec, type ColumnSpec } from './tables.js';
export { schemaSql, SCHEMA_VERSION } from './schema.js';
