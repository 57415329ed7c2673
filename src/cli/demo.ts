import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { hashPassword } from '../broker/index.js';
import { loadConfig, repoRoot } from '../config/load.js';
import { createLogger } from '../lib/logger.js';
import { preferPort } from '../lib/ports.js';
import { modelsDir } from './models.js';
import { serve } from './run.js';
import { parseNumberOption, type CliIo, type ExitCode } from './io.js';

/** The HMI login the demo offers (loopback only); anonymous clients are PLCs. */
export const DEMO_HMI = { username: 'hmi', password: 'demo-hmi' } as const;

/**
 * The latest event time a previous demo left in its store (readings, windows, setpoints), so that a
 * restart on the same file continues after it instead of going back in time.
 */
export function lastEventTime(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    let latest = -Infinity;
    for (const [table, column] of [['readings', 'ts'], ['windows', 'window_end'], ['setpoints', 'ts']] as const) {
      try {
        const row = db.prepare(`SELECT MAX(${column}) AS t FROM ${table}`).get() as { t: number | null } | undefined;
        if (typeof row?.t === 'number' && row.t > latest) latest = row.t;
      } catch {
        // a table the file does not have yet
      }
    }
    return Number.isFinite(latest) ? latest : undefined;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/**
 * `wwtp-edge demo`: the daemon with its embedded broker (loopback only; anonymous clients are PLCs, an
 * HMI login is offered) and the plant twin publishing into it. Daemon and twin share one plant clock that
 * starts now (or after what a previous demo stored) and runs at --speed, so every reading, command and
 * setpoint agrees on time. Ports that are taken are swapped for free ones, said in one line.
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
  const storagePath = base.storage.path === 'data/wwtp-edge.sqlite' ? join(repoRoot, 'data', 'demo.sqlite') : base.storage.path;
  const hmiUser = { username: DEMO_HMI.username, passwordHash: await hashPassword(DEMO_HMI.password), role: 'hmi' as const };
  const config = loadConfig({
    file: opts.configFile,
    env: io.env,
    override: {
      broker: {
        mode: 'embedded',
        embedded: { host, port: mqtt.port, wsPort: ws, allowAnonymous: true, users: [...base.broker.embedded.users.filter((u) => u.username !== hmiUser.username), hmiUser] },
      },
      http: { host, port: http.port },
      storage: { path: storagePath },
      // Started from another directory, the demo still finds the package's models.
      ...(base.models.dir === 'models' ? { models: { dir: modelsDir(undefined, resolve('.')) } } : {}),
    },
  });

  const { createTwin, plantClock, prepareTwin } = await import('../sim/index.js');
  // The twin's start state (BSM1 stabilisation) is computed before the clock starts.
  const prepared = prepareTwin({ plant: 'full' });
  const previous = lastEventTime(storagePath);
  // On the minute: the wall clock's (at --speed 1 the plant clock is then at most a minute behind it), or
  // the first minute after the stored history.
  const startMs = Math.max(Math.floor(Date.now() / 60_000) * 60_000, Math.ceil(((previous ?? -Infinity) + 60_000) / 60_000) * 60_000);
  const clock = plantClock({ speed, startMs });

  const logger = createLogger(config.log.level);
  const stopper = new AbortController();
  const signal = AbortSignal.any([io.signal, stopper.signal]);
  const { done } = await serve(config, { ...io, signal }, opts.version, logger, clock);
  const twin = createTwin({ broker: `mqtt://${host}:${mqtt.port}`, site: config.site, speed, seed, influent: 'dry', epochMs: startMs, signals: config.signals, clock });
  let failed = false;
  // The twin is the demo's plant: if it fails, the demo says why in one line and stops.
  twin.finished().catch((error: unknown) => {
    failed = true;
    io.stderr.write(`demo: plant twin stopped: ${error instanceof Error ? error.message : String(error)}\n`);
    stopper.abort();
  });
  await twin.start(signal);
  const site = config.site;
  io.stderr.write(
    [
      `demo: plant twin running at ${speed}x on ${prepared.influent}; plant time starts ${new Date(startMs).toISOString()}${previous === undefined ? '' : ' (after the stored history)'} and runs at ${speed}x`,
      `demo: watch it:   mosquitto_sub -p ${mqtt.port} -v -t 'wwtp/${site}/#'   (HTTP http://${host}:${http.port}/readyz)`,
      `demo: HMI login:  username ${DEMO_HMI.username}, password ${DEMO_HMI.password}   e.g. mosquitto_pub -p ${mqtt.port} -u ${DEMO_HMI.username} -P ${DEMO_HMI.password} -t wwtp/${site}/hmi/loops/do/mode -m '{"mode":"manual","value":2,"by":"me"}'`,
      '',
    ].join('\n'),
  );
  const code = await done;
  await twin.stop();
  return failed ? 2 : code;
}
