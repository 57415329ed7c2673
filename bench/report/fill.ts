/**
 * A store holding one plant day of readings: the first SIGNALS configured signals, each read every
 * second (86,400 readings a signal), written through the store as ingest writes them.
 * argv: dir signals day   (writes DIR/site.yaml and DIR/edge.sqlite)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createStore } from '../../src/store/index.js';

const [dir = '/tmp/wwtp-report-bench', signalsText = '24', day = '2026-03-02'] = process.argv.slice(2);
const configFile = join(dir, 'site.yaml');
writeFileSync(configFile, JSON.stringify({
  site: 'reportbench',
  storage: { path: join(dir, 'edge.sqlite'), retentionDays: { readings: 100_000 } },
  ingest: { maxAgeDays: 100_000 },
  models: { enabled: false },
}));
const config = loadConfig({ file: configFile, env: {} });
const signals = config.signals.slice(0, Number(signalsText));
const store = createStore(config.storage, { site: config.site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, syncEnabled: false });
await store.start(new AbortController().signal);
const from = Date.parse(`${day}T00:00:00Z`);
let readings = 0;
for (let second = 0; second < 86_400; second += 600) {
  const batch = [];
  for (let k = second; k < second + 600; k += 1) {
    for (const s of signals) {
      const value = s.min + (s.max - s.min) * (0.3 + 0.2 * Math.sin((2 * Math.PI * k) / 86_400));
      batch.push({ stage: s.stage, signal: s.id, ts: from + k * 1000, value, quality: 'good' as const, receivedAt: from + k * 1000 });
    }
  }
  await store.appendReadings(batch);
  readings += batch.length;
}
await store.stop();
process.stdout.write(`${JSON.stringify({ readings, signals: signals.length, configFile })}\n`);
