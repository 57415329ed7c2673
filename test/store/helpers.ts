import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageSchema, type StorageConfig } from '../../src/config/sections/storage.js';
import type { Reading } from '../../src/contract/reading.js';
import { STAGES } from '../../src/contract/plant.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createStore, type StoreContext } from '../../src/store/index.js';

export function tempDir(prefix = 'wwtp-store-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function storageConfig(path: string, over: Partial<StorageConfig> = {}): StorageConfig {
  return { ...storageSchema.parse({ path }), ...over };
}

export function storeContext(over: Partial<StoreContext> = {}): StoreContext {
  return { site: 'test-site', logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, ...over };
}

export function openStore(path: string, over: Partial<StorageConfig> = {}, ctx: Partial<StoreContext> = {}) {
  return createStore(storageConfig(path, over), storeContext(ctx));
}

/** Deterministic readings: reading i of a stream has a unique (stage, signal, ts). */
export function readingsFrom(start: number, count: number, t0 = 1_700_000_000_000): Reading[] {
  const out: Reading[] = [];
  for (let i = start; i < start + count; i++) {
    const stage = STAGES[i % STAGES.length] ?? 'influent';
    out.push({ stage, signal: `s${i % 7}`, ts: t0 + i * 1000, value: Math.sin(i) * 100 + i / 3, quality: i % 11 === 0 ? 'uncertain' : 'good', receivedAt: t0 + i * 1000 + 5 });
  }
  return out;
}

