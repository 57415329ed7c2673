import { ConfigError, loadConfig } from '../config/load.js';
import { systemClock } from '../lib/clock.js';
import { EdgeError } from '../lib/lifecycle.js';
import { createLogger } from '../lib/logger.js';
import { createMetrics } from '../lib/metrics.js';
import { createProgress } from '../lib/progress.js';
import { importCsv, importHints, summaryLine } from '../mapping/import.js';
import { readMapFile } from '../mapping/map-file.js';
import { createStore } from '../store/store.js';
import { countRows } from './replay.js';
import { UsageError, type CliIo, type ExitCode } from './io.js';

/** `wwtp-edge import --csv FILE --map FILE [--config FILE]`: a historian export into the store. */
export async function importCommand(opts: { csv: string; map: string; config?: string | undefined }, io: CliIo): Promise<ExitCode> {
  const map = readMapFile(opts.map);
  let config;
  try {
    config = loadConfig({ file: opts.config, env: io.env, override: { tags: map.tags } });
  } catch (error) {
    if (error instanceof ConfigError) throw new EdgeError('CONFIG_INVALID', `map ${opts.map} with config ${opts.config ?? 'config/default.yaml'}: ${error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, 2);
    throw error;
  }
  const total = await countRows(opts.csv).catch((error: unknown) => {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  });
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level, io.stderr);
  const store = createStore(config.storage, { site: config.site, logger, metrics: createMetrics(false), clock: systemClock, syncEnabled: config.sync.enabled });
  await store.start(io.signal);
  const progress = createProgress('import', io.stderr);
  try {
    const summary = await importCsv({
      csv: opts.csv,
      config,
      mapFile: opts.map,
      sink: store,
      now: () => systemClock.now(),
      signal: io.signal,
      onRow: (rows) => {
        if (rows % 500 === 0 || rows === total) progress.update(rows, total);
      },
    });
    progress.stop();
    io.stdout.write(`${summaryLine(opts.csv, summary)} -> ${config.storage.path}\n`);
    for (const hint of importHints(summary, config.tags.csv?.time.format ?? 'iso')) io.stderr.write(`${hint}\n`);
    // rows read and not one reading taken: the map does not fit the export (the hints say how, the dead letters why)
    if (summary.rows > 0 && summary.readings === 0) {
      io.stderr.write(`nothing imported from ${opts.csv}: every row or value was refused (wwtp-edge keeps them as dead letters)\n`);
      return 1;
    }
    return io.signal.aborted ? 1 : 0;
  } finally {
    progress.stop();
    await store.stop();
  }
}
