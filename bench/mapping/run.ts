/**
 * The tag map's cost: plant messages through the ingest (router, tag map, validation, batching; an
 * in-memory sink, so the store is not measured) in the two real plants' live layouts, and
 * `wwtp-edge import` of the whole Mines record into SQLite (synchronous full).
 *   npx tsx bench/mapping/run.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { DeadLetter, Reading } from '../../src/contract/reading.js';
import { createIngest } from '../../src/ingest/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { importCsv } from '../../src/mapping/import.js';
import { readMapFile } from '../../src/mapping/map-file.js';
import { createStore } from '../../src/store/store.js';
import { repoRoot, writeReportSection } from '../../eval/lib/report.js';
import { defaultDataDir } from '../../src/sim/simulate.js';

const example = (f: string): string => resolve(repoRoot, 'config', 'examples', f);

async function throughput(plant: 'mines-mbr' | 'tilburg', messages: number, build: (i: number, ts: number) => { topic: string; payload: Buffer }) {
  const map = readMapFile(example(`${plant}.map.yaml`));
  const config = loadConfig({ file: example(`${plant}.site.yaml`), override: { tags: map.tags, ingest: { maxAgeDays: 100_000 } } });
  let readings = 0;
  let deadLetters = 0;
  const ingest = createIngest({
    config,
    sink: {
      appendReadings: (r: readonly Reading[], d?: readonly DeadLetter[]) => {
        readings += r.length;
        deadLetters += d?.length ?? 0;
        return Promise.resolve(r);
      },
      appendDeadLetter: () => {
        deadLetters += 1;
      },
    },
    clock: systemClock,
    logger: silentLogger(),
    metrics: createMetrics(false),
    publishDeadLetter: () => undefined,
    onReadings: () => undefined,
    onCommand: () => undefined,
  });
  const inputs = Array.from({ length: messages }, (_, i) => build(i, Date.UTC(2022, 2, 13) + i * 60_000));
  const started = process.hrtime.bigint();
  for (const m of inputs) ingest.handle(m.topic, m.payload, 1, () => undefined);
  await ingest.idle();
  const sec = Number(process.hrtime.bigint() - started) / 1e9;
  return { messages, readings, deadLetters, sec };
}

const tilburgTags = ['Q_inf', 'Q_air_1', 'Q_air_2', 'Q_air_3', 'Q_air_4', 'Q_air_5', 'DO_1', 'DO_2', 'DO_3', 'Temp', 'NH4', 'NO3'];
const tilburg = await throughput('tilburg', 200_000, (i, ts) => ({
  topic: `tilburg/scada/${tilburgTags[i % tilburgTags.length]}`,
  payload: Buffer.from(JSON.stringify({ v: 1 + (i % 97) / 10, t: ts })),
}));
const minesTags = readMapFile(example('mines-mbr.map.yaml')).tags.points.map((p) => p.tag);
const mines = await throughput('mines-mbr', 20_000, (i, ts) => ({
  topic: 'mines/historian/minute',
  payload: Buffer.from(JSON.stringify({ time: new Date(ts).toISOString(), points: [{ tag: 'mbr_1_mode_1', v: 1 }, { tag: 'mbr_2_mode_1', v: 0 }, ...minesTags.map((tag, k) => ({ tag, v: ((i + k) % 5) / 2 }))] })),
}));

const csv = join(defaultDataDir(), 'wwtp-real', 'mines_mbr_2010.csv');
const work = mkdtempSync(join(tmpdir(), 'wwtp-bench-import-'));
const map = readMapFile(example('mines-mbr.map.yaml'));
const config = loadConfig({ file: example('mines-mbr.site.yaml'), override: { tags: map.tags, storage: { path: join(work, 'mines.sqlite') } } });
const store = createStore(config.storage, { site: config.site, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock });
await store.start(new AbortController().signal);
const t0 = process.hrtime.bigint();
const imported = await importCsv({ csv, config, mapFile: 'mines-mbr.map.yaml', sink: store, now: () => Date.now(), signal: new AbortController().signal });
await store.stop();
const importSec = Number(process.hrtime.bigint() - t0) / 1e9;
rmSync(work, { recursive: true, force: true });

const n = (x: number): string => Math.round(x).toLocaleString('en-US');
const md = `## Tag map (\`npx tsx bench/mapping/run.ts\`)

| measure | result |
|---|---|
| Tilburg layout, one tag per message (\`tilburg/scada/+tag\`, \`{"v", "t"}\`), through the ingest | **${n(tilburg.messages / tilburg.sec)} messages/s** (${n(tilburg.readings)} readings, ${tilburg.deadLetters} dead letters) |
| Mines layout, one message per minute with 29 tags (\`array\`), through the ingest | **${n(mines.readings / mines.sec)} readings/s** (${n(mines.messages / mines.sec)} messages/s) |
| \`wwtp-edge import\` of mines_mbr_2010.csv (43,552 rows) into SQLite, synchronous full | **${n(imported.readings / importSec)} readings/s**: ${n(imported.rows)} rows, ${n(imported.readings)} readings in ${importSec.toFixed(1)} s |

Ingest figures: router, tag map, unit conversion, validity and the readings' checks, batches handed to
an in-memory sink (the store is measured in the ingest and sync sections). Node ${process.version},
${process.arch}; load average ${loadavg()[0]?.toFixed(2) ?? '?'} when the run ended (other work shares the cores).
`;
writeReportSection('docs/benchmarks.md', 'mapping', md);
console.log(md);
