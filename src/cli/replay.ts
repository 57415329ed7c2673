import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { createProgress } from '../lib/progress.js';
import { readReplayMap } from '../replay/map.js';
import { replayCsv } from '../replay/replay.js';
import { parseNumberOption, UsageError, type CliIo, type ExitCode } from './io.js';

function countLines(file: string): number {
  try {
    return Math.max(0, readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').length - 1);
  } catch {
    throw new UsageError(`cannot read CSV ${file}`);
  }
}

/** `wwtp-edge replay --csv FILE --map FILE --broker URL [--speed N]`. */
export async function replayCommand(opts: Record<string, string | undefined>, io: CliIo): Promise<ExitCode> {
  const csv = opts['csv'] ?? '';
  const map = readReplayMap(opts['map'] ?? '');
  const site = opts['site'];
  const speed = parseNumberOption('speed', opts['speed'], 0, (n) => n >= 0);
  const total = countLines(csv);
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
        map: site ? { ...map, site } : map,
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
    io.stdout.write(`replayed ${result.rows} rows: ${result.published} readings published, ${result.skipped} empty or non-numeric cells skipped\n`);
    return 0;
  } finally {
    progress.stop();
    await client.endAsync();
  }
}
