import { join } from 'node:path';
import { loadConfig, repoRoot } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { preferPort } from '../lib/ports.js';
import { serve } from './run.js';
import { parseNumberOption, type CliIo, type ExitCode } from './io.js';

/**
 * `wwtp-edge demo`: the daemon with its embedded broker (anonymous, loopback only) and the plant twin
 * publishing into it. Ports that are taken are swapped for free ones, said in one line.
 */
export async function demoCommand(opts: { speed: string; seed: string; configFile?: string | undefined; version: string }, io: CliIo): Promise<ExitCode> {
  const speed = parseNumberOption('speed', opts.speed, 60);
  const seed = parseNumberOption('seed', opts.seed, 1, (n) => Number.isInteger(n) && n >= 0);
  const base = loadConfig({ file: opts.configFile, env: io.env });
  const host = '127.0.0.1';
  const mqtt = await preferPort(base.broker.embedded.port, host);
  const http = await preferPort(base.http.port, host);
  const ws = base.broker.embedded.wsPort === null ? null : (await preferPort(base.broker.embedded.wsPort, host)).port;
  if (mqtt.preferredTaken) io.stderr.write(`demo: port ${base.broker.embedded.port} is taken (another broker?); the demo broker listens on mqtt://${host}:${mqtt.port}\n`);
  if (http.preferredTaken) io.stderr.write(`demo: port ${base.http.port} is taken; HTTP listens on http://${host}:${http.port}\n`);
  const config = loadConfig({
    file: opts.configFile,
    env: io.env,
    override: {
      broker: { mode: 'embedded', embedded: { host, port: mqtt.port, wsPort: ws, allowAnonymous: true } },
      http: { host, port: http.port },
      // the twin's plant clock runs ahead of the wall clock at --speed
      ingest: { maxFutureSkewSec: 365 * 86_400 },
      storage: { path: base.storage.path === 'data/wwtp-edge.sqlite' ? join(repoRoot, 'data', 'demo.sqlite') : base.storage.path },
    },
  });
  const logger = createLogger(config.log.level);
  const { done } = await serve(config, io, opts.version, logger);
  const { createTwin } = await import('../sim/index.js');
  // Plant time starts 14 days back so that at demo speed it runs up towards wall time.
  const twin = createTwin({ broker: `mqtt://${host}:${mqtt.port}`, site: config.site, speed, seed, influent: 'dry', epochMs: Math.floor((Date.now() - 14 * 86_400_000) / 60_000) * 60_000, signals: config.signals });
  await twin.start(io.signal);
  io.stderr.write(
    `demo: plant twin running at ${speed}x; watch it with: mosquitto_sub -p ${mqtt.port} -v -t 'wwtp/${config.site}/#'  (HTTP http://${host}:${http.port}/readyz)\n`,
  );
  const code = await done;
  await twin.stop();
  return code;
}
