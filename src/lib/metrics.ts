import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DEAD_LETTER_REASONS } from '../contract/reading.js';

/**
 * The daemon's metrics, one registry per runtime (never the global one) so that several runtimes can
 * live in one test process.
 */
export function createMetrics(withDefaults = true) {
  const registry = new Registry();
  // prom-client's names start with process_ and nodejs_: wwtp_edge_process_cpu_seconds_total, wwtp_edge_nodejs_heap_size_used_bytes...
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'wwtp_edge_', eventLoopMonitoringPrecision: 20 });
  const readingsIn = new Counter({ name: 'wwtp_edge_readings_total', help: 'Readings accepted and committed', labelNames: ['stage'] as const, registers: [registry] });
  const deadLetters = new Counter({ name: 'wwtp_edge_dead_letters_total', help: 'Rejected messages by reason', labelNames: ['reason'] as const, registers: [registry] });
  for (const reason of DEAD_LETTER_REASONS) deadLetters.inc({ reason }, 0);
  const commitSeconds = new Histogram({
    name: 'wwtp_edge_commit_seconds',
    help: 'SQLite group commit latency',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const commitBatch = new Histogram({ name: 'wwtp_edge_commit_batch_rows', help: 'Rows per group commit', buckets: [1, 10, 100, 500, 1000, 5000, 20000], registers: [registry] });
  const queueDepth = new Gauge({ name: 'wwtp_edge_queue_depth', help: 'Items waiting in a bounded queue', labelNames: ['queue'] as const, registers: [registry] });
  const queueOverflow = new Counter({ name: 'wwtp_edge_queue_overflow_total', help: 'Items refused by a full bounded queue', labelNames: ['queue'] as const, registers: [registry] });
  const readingsLate = new Counter({
    name: 'wwtp_edge_readings_late_total',
    help: 'Readings older than every open window (past windows.allowedLatenessSec): stored, not windowed',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  const readingsNotWindowed = new Counter({
    name: 'wwtp_edge_readings_not_windowed_total',
    help: 'Readings stored but left out of the windows: unknown_signal, not_finite, bad_quality, duplicate',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const clients = new Gauge({ name: 'wwtp_edge_mqtt_clients', help: 'Clients connected to the embedded broker', registers: [registry] });
  const brokerLimits = new Counter({ name: 'wwtp_edge_broker_limit_hits_total', help: 'Broker limits hit', labelNames: ['limit'] as const, registers: [registry] });
  const handlerErrors = new Counter({ name: 'wwtp_edge_handler_errors_total', help: 'Errors caught at a component boundary', labelNames: ['component'] as const, registers: [registry] });
  const published = new Counter({ name: 'wwtp_edge_published_total', help: 'Messages published by the daemon', labelNames: ['kind'] as const, registers: [registry] });
  const rss = new Gauge({ name: 'wwtp_edge_rss_bytes', help: 'Resident set size', registers: [registry], collect() { this.set(process.memoryUsage.rss()); } });
  return { registry, readingsIn, deadLetters, commitSeconds, commitBatch, queueDepth, queueOverflow, readingsLate, readingsNotWindowed, clients, brokerLimits, handlerErrors, published, rss };
}
export type Metrics = ReturnType<typeof createMetrics>;
