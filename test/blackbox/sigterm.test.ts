import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { edgeEnv, record, sleep, startEdge, startMosquitto, tempDir, uniqueSite, waitFor } from './harness.js';

/**
 * Guarantee 6 under load: a PLC streams QoS 1 readings (500 in flight) when the daemon gets SIGTERM.
 * It must exit 0 (the entry exits 1 when the drain passes its 4.5 s guard), every acknowledged
 * reading must be in SQLite, and subscribers (mosquitto_sub and MQTT.js) must see the retained
 * `offline` on edge/status as the last status before their connection closes. With an external
 * broker (a Mosquitto of the test's own, set as README says) the PLC's PUBACK comes from Mosquitto:
 * the daemon is started again and every reading must arrive through its persistent session.
 */
interface Run {
  acked: Set<number>;
  stored: Set<number>;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  mosquittoSub: string[];
  mqttjs: string[];
}

async function sigtermUnderLoad(mode: 'embedded' | 'external'): Promise<Run> {
  const dir = tempDir('wwtp-bb-term-');
  const site = uniqueSite(`t${mode[1]}`);
  const mosquitto = mode === 'external' ? await startMosquitto(dir) : undefined;
  const extra: Record<string, string> = mosquitto
    ? { WWTP_EDGE_BROKER__MODE: 'external', WWTP_EDGE_BROKER__EXTERNAL__URL: mosquitto.url, WWTP_EDGE_BROKER__EXTERNAL__CLIENT_ID: `wwtp-edge-${site}` }
    : {};
  const edge = await startEdge(edgeEnv(dir, site, extra));
  const port = mosquitto ? mosquitto.port : edge.mqttPort;
  const statusTopic = `wwtp/${site}/edge/status`;

  const mosquittoSub: string[] = [];
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', statusTopic, '-i', `bb-sub-${site}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  createInterface({ input: sub.stdout }).on('line', (line) => mosquittoSub.push(line));
  const mqttjs: string[] = [];
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bb-watch-${site}`, reconnectPeriod: 0 });
  watcher.on('error', () => undefined);
  watcher.on('message', (_t, payload) => mqttjs.push(payload.toString()));
  await watcher.subscribeAsync(statusTopic, { qos: 1 });
  await waitFor('the retained status', () => (mosquittoSub.length > 0 && mqttjs.length > 0) || undefined, 10_000);

  const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bb-plc-${site}`, reconnectPeriod: 0 });
  plc.on('error', () => undefined);
  const acked = new Set<number>();
  const base = Date.now() - 3_600_000;
  let n = 0;
  let inFlight = 0;
  let stopped = false;
  const pump = (): void => {
    while (!stopped && inFlight < 500) {
      const ts = base + n++;
      inFlight += 1;
      plc.publish(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 2 + (n % 10) / 10, ts }), { qos: 1 }, (error) => {
        inFlight -= 1;
        if (!error) acked.add(ts);
        pump();
      });
    }
  };
  pump();
  plc.once('close', () => (stopped = true));
  await waitFor('readings flowing', () => acked.size >= 5_000 || undefined, 30_000);
  edge.child.kill('SIGTERM');
  const exit = await edge.exited();
  // the external broker keeps the PLC's connection: stop publishing and collect the last acks
  stopped = true;
  await sleep(500);
  plc.end(true);
  watcher.end(true);
  sub.kill('SIGTERM');
  if (mosquitto) {
    // The PLC's PUBACK came from Mosquitto: what the daemon had not acknowledged waits in its
    // persistent session and arrives after the restart.
    const again = await startEdge(edgeEnv(dir, site, extra));
    await waitFor('the persistent session redelivered', () => {
      const db = new Database(join(dir, 'edge.sqlite'), { readonly: true });
      const count = db.prepare("SELECT COUNT(*) FROM readings WHERE stage = 'aerobic' AND signal = 'do'").pluck().get() as number;
      db.close();
      return count >= acked.size || undefined;
    }, 30_000).catch(() => undefined);
    again.child.kill('SIGTERM');
    await again.exited();
    mosquitto.stop();
  }
  const db = new Database(join(dir, 'edge.sqlite'), { readonly: true });
  const stored = new Set(db.prepare("SELECT ts FROM readings WHERE stage = 'aerobic' AND signal = 'do'").pluck().all() as number[]);
  db.close();
  return { acked, stored, exit, mosquittoSub, mqttjs };
}

function lossless(mode: 'embedded' | 'external', runs: Map<string, Run>): void {
  it('exits 0 and keeps every acknowledged reading', async () => {
    const run = await sigtermUnderLoad(mode);
    runs.set(mode, run);
    const lost = [...run.acked].filter((ts) => !run.stored.has(ts)).length;
    record(`sigterm-${mode}`, { acked: run.acked.size, lost, exitCode: run.exit.code ?? -1, offlineSeen: Number(run.mqttjs.at(-1) === 'offline' && run.mosquittoSub.at(-1) === 'offline') });
    expect(run.exit.code).toBe(0);
    expect(run.acked.size).toBeGreaterThan(5_000);
    expect(lost).toBe(0);
  }, 90_000);
}

function offlineSeen(run: Run | undefined): void {
  expect(run?.mqttjs.at(-1)).toBe('offline');
  expect(run?.mosquittoSub.at(-1)).toBe('offline');
}

const runs = new Map<string, Run>();

describe('SIGTERM under a QoS 1 stream (embedded broker, built daemon)', () => {
  lossless('embedded', runs);
  it('publishes offline to subscribers before their connection closes', () => offlineSeen(runs.get('embedded')));
});

describe('SIGTERM under a QoS 1 stream (external Mosquitto, built daemon)', () => {
  lossless('external', runs);
  it('publishes offline to subscribers before the daemon exits', () => offlineSeen(runs.get('external')));
});
