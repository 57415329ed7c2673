/**
 * One QoS 1 burst through a private Mosquitto into the daemon (a child process, its own SQLite file):
 * readings published, PUBACKed by Mosquitto, stored by the daemon, and Mosquitto's own count of
 * messages it dropped for a subscriber that fell behind. Shared by bench/external/run.ts and
 * test/broker/external-burst.test.ts.
 */
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { edgeEnv, sleep, startEdge, tempDir, uniqueSite } from '../../test/blackbox/harness.js';

/** Mosquitto 2.0 as installed (max_queued_messages 1000, max_inflight_messages 20, no persistence). */
export const DEFAULT_LIMITS: readonly string[] = [];
/** README "An external broker: limits to set". */
export const RECOMMENDED_LIMITS: readonly string[] = ['max_queued_messages 1000000', 'max_inflight_messages 1000', 'persistence true', 'persistent_client_expiration 7d'];

export interface BurstResult {
  published: number;
  pubacked: number;
  stored: number;
  brokerDropped: number;
  seconds: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startMosquitto(dir: string, limits: readonly string[]): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'sys_interval 1', `persistence_location ${dir}/`, ...limits, ''].join('\n'));
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  broker.once('error', () => undefined); // no mosquitto binary: the connect loop below reports it
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 }).catch(() => undefined);
    if (c) {
      await c.endAsync();
      return { url, stop: () => broker.kill('SIGTERM') };
    }
    await sleep(50);
  }
  broker.kill('SIGKILL');
  throw new Error('mosquitto did not start');
}

function storedCount(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function brokerDropped(url: string): Promise<number> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    return await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(Number.NaN), 3000);
      c.on('message', (_t, payload) => {
        clearTimeout(timer);
        resolve(Number(payload.toString()));
      });
      void c.subscribeAsync('$SYS/broker/publish/messages/dropped');
    });
  } finally {
    await c.endAsync();
  }
}

/** `total` QoS 1 readings from `clients` PLCs (up to `window` each in flight), each with its own ts. */
export async function burst(limits: readonly string[], total: number, options: { clients?: number; window?: number; kill9AfterStored?: number } = {}): Promise<BurstResult & { restarted: boolean }> {
  const clients = options.clients ?? 4;
  const window = options.window ?? 900;
  const dir = tempDir('wwtp-ext-burst-');
  const site = uniqueSite('xb');
  const mosquitto = await startMosquitto(dir, limits);
  const dbFile = join(dir, 'edge.sqlite');
  const env = edgeEnv(dir, site, { WWTP_EDGE_BROKER__MODE: 'external', WWTP_EDGE_BROKER__EXTERNAL__URL: mosquitto.url });
  let edge = await startEdge(env);
  let restarted = false;
  // kill -9 mid-burst, then a new daemon on the same persistent session: a reading it had
  // acknowledged before its commit would be gone for good.
  const killer = options.kill9AfterStored === undefined ? undefined : (async () => {
    while (storedCount(dbFile) < options.kill9AfterStored!) await sleep(20);
    await edge.kill9();
    edge = await startEdge(env);
    restarted = true;
  })();
  try {
    await sleep(500);
    const plcs = await Promise.all(Array.from({ length: clients }, (_, k) => mqtt.connectAsync(mosquitto.url, { clientId: `plc-${site}-${k}`, reconnectPeriod: 0 })));
    const topics = ['aerobic/do', 'aerobic/temperature', 'influent/flow', 'anoxic/no3_n'].map((t) => `wwtp/${site}/${t}`);
    const base = Date.now() - 3_600_000;
    let published = 0;
    let pubacked = 0;
    const perClient = Math.floor(total / clients);
    const started = performance.now();
    await Promise.all(
      plcs.map(
        (c, k) =>
          new Promise<void>((resolve) => {
            let sent = 0;
            let inFlight = 0;
            const pump = (): void => {
              while (sent < perClient && inFlight < window) {
                const ts = base + k * perClient + sent++;
                inFlight += 1;
                published += 1;
                c.publish(topics[k % topics.length]!, JSON.stringify({ value: 1 + (ts % 7) / 10, ts }), { qos: 1 }, (error) => {
                  inFlight -= 1;
                  if (!error) pubacked += 1;
                  if (sent === perClient && inFlight === 0) resolve();
                  else pump();
                });
              }
            };
            pump();
          }),
      ),
    );
    await Promise.all(plcs.map((c) => c.endAsync()));
    await killer;
    // Stored: until all arrived or nothing more arrived for 5 s.
    let stored = storedCount(dbFile);
    let lastChange = performance.now();
    let lastArrival = performance.now();
    while (stored < pubacked && performance.now() - lastChange < 5000) {
      await sleep(200);
      const now = storedCount(dbFile);
      if (now !== stored) {
        stored = now;
        lastChange = performance.now();
        lastArrival = lastChange;
      }
    }
    await sleep(1200);
    return { published, pubacked, stored, brokerDropped: await brokerDropped(mosquitto.url), seconds: (lastArrival - started) / 1000, restarted };
  } finally {
    await edge.kill9();
    mosquitto.stop();
  }
}
