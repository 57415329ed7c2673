import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import type { ModelsMessage } from '../../src/contract/topics.js';
import { binPath, repoRoot } from './daemon.js';

/** The tag map of the small imported plant: an influent flow and an aerobic stage (DO, airflow, nitrate). */
export const AERATION_MAP = `tags:
  csv:
    time: { column: time, format: iso }
  points:
    - { tag: FT1, stage: influent, signal: flow }
    - { tag: DO1, stage: aerobic, signal: do }
    - { tag: AIR1, stage: aerobic, signal: airflow }
    - { tag: NO3, stage: aerobic, signal: no3_n }
`;

export interface AerationLevel {
  readonly flow: number;
  readonly do: number;
  readonly airflow: number;
  readonly no3_n: number;
}

/** Flow, DO and airflow on the daily swing of the load; nitrate as the test wants it at minute m. */
export function aerationLevel(m: number, nitrate: (m: number, day: number) => number): AerationLevel {
  const day = (2 * Math.PI * m) / 1440;
  return { flow: 20_000 + 5_000 * Math.sin(day), do: 2 + 0.5 * Math.sin(day + 1), airflow: 10_000 + 2_000 * Math.sin(day + 0.5), no3_n: nitrate(m, day) };
}

/** The plant's history as a historian exports it: one row a minute from `start`, for `days`. */
export function aerationCsv(start: number, days: number, nitrate: (m: number, day: number) => number): string {
  const rows = ['time,FT1,DO1,AIR1,NO3'];
  for (let m = 0; m < days * 1440; m += 1) {
    const v = aerationLevel(m, nitrate);
    rows.push([new Date(start + m * 60_000).toISOString(), v.flow.toFixed(3), v.do.toFixed(4), v.airflow.toFixed(3), v.no3_n.toFixed(4)].join(','));
  }
  return `${rows.join('\n')}\n`;
}

/** `wwtp-edge ARGS` as a child process (log level warn), with its exit code and both outputs. */
export async function runCli(args: readonly string[], env: Record<string, string>, nice?: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = [process.execPath, binPath, ...args];
  const [file, ...rest] = nice === undefined ? command : ['nice', '-n', String(nice), ...command];
  const child = spawn(file ?? process.execPath, rest, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WWTP_EDGE_LOG__LEVEL: 'warn', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
  return { code, stdout, stderr };
}

/** The retained wwtp/{site}/edge/models message once `until` holds for it; the last one seen in the error otherwise. */
export async function retainedModels(port: number, site: string, until: (m: ModelsMessage) => boolean, timeoutMs: number): Promise<ModelsMessage> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  try {
    return await new Promise<ModelsMessage>((resolve, reject) => {
      let lastSeen: ModelsMessage | undefined;
      const summary = (): string => JSON.stringify(lastSeen?.models.map((m) => ({ model: m.model, state: m.state, detector: m.detector, skill: Object.keys(m.skill), triggers: m.triggers, lastEvent: m.lastEvent })));
      const timer = setTimeout(() => reject(new Error(`edge/models never matched; last: ${summary()}`)), timeoutMs);
      client.on('message', (_topic, payload) => {
        lastSeen = JSON.parse(payload.toString()) as ModelsMessage;
        if (until(lastSeen)) {
          clearTimeout(timer);
          resolve(lastSeen);
        }
      });
      void client.subscribeAsync(`wwtp/${site}/edge/models`, { qos: 1 });
    });
  } finally {
    await client.endAsync(true);
  }
}
