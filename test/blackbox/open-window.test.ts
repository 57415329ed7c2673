import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeEnv, metricSum, scrape, startEdge, tempDir, uniqueSite, waitFor, type Edge } from './harness.js';

/**
 * The window open at a kill -9: its readings were committed (PUBACKed) before the kill, so after the
 * restart that window must hold them beside the ones that come after, as if the daemon had never
 * stopped. A SIGTERM closes the open windows itself; the next start must not window them again.
 * One signal (aerobic DO) every 30 s of event time through MQTT.js at QoS 1, windows of 5 minutes.
 */
const WINDOW_MS = 300_000;
const STEP_MS = 30_000;
const base = Math.floor((Date.now() - 6 * 3_600_000) / WINDOW_MS) * WINDOW_MS;
const tsOf = (i: number): number => base + i * STEP_MS;
const valueOf = (i: number): number => 1 + (i % 7) / 4;

interface StoredWindow {
  end: number;
  count: number;
  mean: number;
}

async function publish(edge: Edge, site: string, from: number, to: number): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${edge.mqttPort}`, { reconnectPeriod: 0, clientId: `bb-open-${from}` });
  try {
    for (let i = from; i <= to; i += 1) await client.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: valueOf(i), ts: tsOf(i) }), { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

function storedWindows(file: string): StoredWindow[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT window_end AS end, features FROM windows WHERE stage = 'aerobic' ORDER BY window_end").all() as { end: number; features: string }[];
    return rows.map((r) => {
      const doFeatures = (JSON.parse(r.features) as Record<string, { count: number; mean: number }>)['do'];
      return { end: r.end, count: doFeatures?.count ?? 0, mean: doFeatures?.mean ?? Number.NaN };
    });
  } finally {
    db.close();
  }
}

const expected = (end: number): { count: number; mean: number } => {
  const inside = Array.from({ length: 200 }, (_, i) => i).filter((i) => tsOf(i) >= end - WINDOW_MS && tsOf(i) < end);
  return { count: inside.length, mean: inside.reduce((s, i) => s + valueOf(i), 0) / inside.length };
};

describe('the window open at a kill -9 keeps its committed readings (built daemon)', () => {
  const dir = tempDir('wwtp-bb-open-window-');
  const file = join(dir, 'edge.sqlite');
  const site = uniqueSite('w');
  let afterKill: StoredWindow[] = [];
  let afterTerm: StoredWindow[] = [];
  let killLogs: string[] = [];
  let termLogs: string[] = [];
  let edge: Edge | undefined;
  let lateAfterTerm = -1;
  let storedReadings = 0;

  beforeAll(async () => {
    // readings 0..13: the first window closes (event time 6.5 min, lateness 1 min), the second holds 10..13
    edge = await startEdge(edgeEnv(dir, site));
    await publish(edge, site, 0, 13);
    await waitFor('the first window', () => storedWindows(file).some((w) => w.end === base + WINDOW_MS));
    await edge.kill9();
    // readings 14..26 after the restart: the second window closes, the third (20..26) stays open
    edge = await startEdge(edgeEnv(dir, site));
    await publish(edge, site, 14, 26);
    await waitFor('the second window', () => storedWindows(file).some((w) => w.end === base + 2 * WINDOW_MS));
    afterKill = storedWindows(file);
    killLogs = [...edge.logs];
    // SIGTERM: the third window is closed at stop, as it stands
    edge.child.kill('SIGTERM');
    await edge.exited();
    edge = await startEdge(edgeEnv(dir, site));
    await publish(edge, site, 27, 52);
    await waitFor('the fifth window', () => storedWindows(file).some((w) => w.end === base + 5 * WINDOW_MS));
    afterTerm = storedWindows(file);
    termLogs = [...edge.logs];
    lateAfterTerm = metricSum(await scrape(edge), 'wwtp_edge_readings_late_total');
    const db = new Database(file, { readonly: true });
    storedReadings = db.prepare("SELECT COUNT(*) FROM readings WHERE stage = 'aerobic' AND signal = 'do'").pluck().get() as number;
    db.close();
    await edge.kill9();
    edge = undefined;
  }, 120_000);

  afterAll(async () => {
    await edge?.kill9();
  });

  it('the window open at the kill holds the readings from before it and after the restart', () => {
    const second = afterKill.find((w) => w.end === base + 2 * WINDOW_MS);
    expect(second).toBeDefined();
    expect(second?.count).toBe(expected(base + 2 * WINDOW_MS).count);
    expect(second?.mean).toBeCloseTo(expected(base + 2 * WINDOW_MS).mean, 9);
    expect(killLogs.some((l) => l.includes('windows open at the last stop refilled with 4 stored readings'))).toBe(true);
  });

  it('every window is stored once, and a SIGTERM leaves nothing to refill', () => {
    const ends = afterTerm.map((w) => w.end);
    expect(new Set(ends).size).toBe(ends.length);
    expect(ends.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((k) => base + k * WINDOW_MS));
    // the third window as SIGTERM closed it (readings 20..26): 27..29, stamped inside it, came after it closed (late, stored)
    expect(afterTerm.find((w) => w.end === base + 3 * WINDOW_MS)?.count).toBe(7);
    expect(lateAfterTerm).toBe(3);
    expect(afterTerm.find((w) => w.end === base + 4 * WINDOW_MS)?.count).toBe(expected(base + 4 * WINDOW_MS).count);
    expect(termLogs.some((l) => l.includes('refilled'))).toBe(false);
    expect(storedReadings).toBe(53);
  });
});
