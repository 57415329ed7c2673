import mqtt from 'mqtt';
import { loadConfig } from '../config/load.js';
import { readCsvRows } from '../lib/csv.js';
import { createProgress } from '../lib/progress.js';
import { readMapFile } from '../mapping/map-file.js';
import { replayCsv } from '../replay/replay.js';
import { parseNumberOption, UsageError, type CliIo, type ExitCode } from './io.js';

/** Data rows of a CSV (for the progress bar), read with the same parser as the replay. */
export async function countRows(file: string): Promise<number> {
  let rows = 0;
  for await (const _ of readCsvRows(file)) rows += 1;
  return rows;
}

/** `wwtp-edge replay --csv FILE --map FILE --broker URL [--speed N] [--site S] [--config FILE]`. */
export async function replayCommand(opts: Record<string, string | undefined>, io: CliIo): Promise<ExitCode> {
  const csv = opts['csv'] ?? '';
  const map = readMapFile(opts['map'] ?? '');
  const speed = parseNumberOption('speed', opts['speed'], 0, (n) => n >= 0);
  const needsSignals = map.tags.mqtt.length === 0 && map.tags.points.some((p) => p.unit !== undefined);
  const config = needsSignals || opts['config'] !== undefined ? loadConfig({ file: opts['config'], env: io.env }) : undefined;
  const site = opts['site'] ?? map.site ?? config?.site ?? 'demo';
  const total = await countRows(csv).catch((error: unknown) => {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  });
  const client = await mqtt.connectAsync(opts['broker'] ?? '', {
    username: opts['username'],
    password: opts['password'],
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  const progress = createProgress('replay', io.stderr);
  try {
    const result = await replayCsv(
      client,
      {
        csv,
        map,
        site,
        signals: config?.signals ?? [],
        speed,
        now: () => Date.now(),
        sleep: (ms, signal) => new Promise((resolve) => {
          const t = setTimeout(resolve, ms);
          signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
        }),
      },
      io.signal,
      (rows) => progress.update(rows, total),
    );
    progress.stop();
    const where = result.layout === 'plant' ? "through the plant's own topics (tags.mqtt)" : `as wwtp/${site}/{stage}/{signal}`;
    io.stdout.write(`replayed ${result.rows} rows: ${result.published} messages published ${where}, ${result.skipped} empty or non-numeric cells skipped\n`);
    return 0;
  } finally {
    progress.stop();
    await client.endAsync();
  }
}
