import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/index.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { tempDir } from '../helpers/daemon.js';

/**
 * The web HMI's HTTP side without a browser: login against the broker's users, the session cookie,
 * CSRF and origin checks on POSTs, role checks; the same command path for MQTT HMI topics (verdicts,
 * decisions, operator_actions); the history filters and the what-if's errors.
 */
const site = `hmiapi${process.pid}`;
let runtime: Runtime;
let base: string;
let dbPath: string;
let plc: MqttClient;
let hmiMqtt: MqttClient;
const t0 = Math.floor((Date.now() - 5 * 3_600_000) / 300_000) * 300_000;

async function loginAs(username: string, password: string): Promise<{ status: number; cookie: string; csrf: string; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/hmi/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = (await res.json()) as Record<string, unknown>;
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { status: res.status, cookie, csrf: String(body['csrf'] ?? ''), body };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

const rows = (sql: string, ...args: unknown[]): Record<string, unknown>[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...args) as Record<string, unknown>[];
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  const dir = tempDir('wwtp-hmi-api-');
  dbPath = join(dir, 'edge.sqlite');
  const users = [
    { username: 'plc1', passwordHash: await hashPassword('plc-pass-1'), role: 'plc' },
    { username: 'hmi1', passwordHash: await hashPassword('hmi-pass-1'), role: 'hmi' },
    { username: 'viewer1', passwordHash: await hashPassword('viewer-pass-1'), role: 'viewer' },
  ];
  const config = loadConfig({
    override: {
      site,
      broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, users } },
      http: { port: 0 },
      storage: { path: dbPath },
      models: { enabled: false },
      sync: { enabled: false },
      windows: { allowedLatenessSec: 0 },
      alarms: { onDelaySec: 0, limits: [{ stage: 'aerobic', signal: 'nh4_n', high: 5, severity: 'high' }] },
      control: { loops: [{ id: 'do', stage: 'aerobic', unit: 'mg/L', min: 0.5, max: 3, maxStep: 0.5, fallback: 2, feedback: 'aerobic.do', params: { minQuality: 0 } }, { id: 'coagulant_dose', enabled: false }] },
    },
  });
  runtime = createRuntime(config, { logger: silentLogger() });
  await runtime.start(new AbortController().signal);
  base = `http://127.0.0.1:${runtime.ports().http}`;
  const url = `mqtt://127.0.0.1:${runtime.ports().mqtt}`;
  plc = await mqtt.connectAsync(url, { clientId: `plc-${site}`, username: 'plc1', password: 'plc-pass-1' });
  hmiMqtt = await mqtt.connectAsync(url, { clientId: `hmi-${site}`, username: 'hmi1', password: 'hmi-pass-1' });
  for (let m = 0; m < 16; m += 1) {
    const ts = t0 + m * 60_000;
    await plc.publishAsync(`wwtp/${site}/aerobic/nh4_n`, JSON.stringify({ value: 8, ts }), { qos: 1 });
    await plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 1.8, ts }), { qos: 1 });
  }
  await runtime.idle();
}, 60_000);

afterAll(async () => {
  await plc?.endAsync();
  await hmiMqtt?.endAsync();
  await runtime?.stop();
});

describe('web HMI sessions and actions over HTTP', () => {
  it('serves the page, logs in against the broker users and refuses wrong passwords and PLC accounts', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('/ui/app.js');
    expect((await fetch(`${base}/ui/app.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base}/ui/..%2Fpackage.json`)).status).toBe(404);
    expect((await loginAs('hmi1', 'wrong')).status).toBe(401);
    expect((await loginAs('nobody', 'x')).status).toBe(401);
    const plcLogin = await loginAs('plc1', 'plc-pass-1');
    expect(plcLogin.status).toBe(403);
    expect(plcLogin.body['error']).toMatch(/no screen/);
    const ok = await fetch(`${base}/hmi/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'hmi1', password: 'hmi-pass-1' }) });
    expect(ok.headers.get('set-cookie')).toMatch(/^wwtp_hmi=[\w-]+; Path=\/; HttpOnly; SameSite=Strict/);
    expect((await fetch(`${base}/hmi/api/snapshot`)).status).toBe(401);
  });

  it('refuses a POST without the CSRF token, from another origin, without JSON, and a viewer acting', async () => {
    const hmi = await loginAs('hmi1', 'hmi-pass-1');
    const alarm = 'limit.aerobic.nh4_n';
    const post = (headers: Record<string, string>, body = '{}'): Promise<Response> =>
      fetch(`${base}/hmi/api/alarms/${alarm}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: hmi.cookie, ...headers }, body });
    expect((await post({})).status).toBe(403);
    expect((await post({ 'x-csrf-token': 'forged' })).status).toBe(403);
    expect((await post({ 'x-csrf-token': hmi.csrf, origin: 'http://evil.example' })).status).toBe(403);
    expect((await post({ 'x-csrf-token': hmi.csrf, 'content-type': 'text/plain' })).status).toBe(400);
    expect((await post({ 'x-csrf-token': hmi.csrf }, '{"verdict":"maybe"}')).status).toBe(400);
    const unknown = await fetch(`${base}/hmi/api/alarms/no.such.alarm/ack`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: hmi.cookie, 'x-csrf-token': hmi.csrf }, body: '{}' });
    expect(unknown.status).toBe(404);
    const viewer = await loginAs('viewer1', 'viewer-pass-1');
    const refused = await fetch(`${base}/hmi/api/loops/do/mode`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: viewer.cookie, 'x-csrf-token': viewer.csrf }, body: '{"mode":"manual"}' });
    expect(refused.status).toBe(403);
    expect(rows('SELECT * FROM operator_actions')).toEqual([]);
  });

  it('takes acks with verdicts and decisions over MQTT on the same path, each in operator_actions', async () => {
    const alarm = 'limit.aerobic.nh4_n';
    await hmiMqtt.publishAsync(`wwtp/${site}/hmi/alarms/${alarm}/ack`, JSON.stringify({ by: 'night-op', comment: 'sensor drift', verdict: 'false_alarm' }), { qos: 1 });
    await until(() => rows(`SELECT 1 FROM alarm_events WHERE state = 'active_ack'`).length > 0, 'the ack');
    expect(rows(`SELECT "by", comment, verdict FROM alarm_events WHERE state = 'active_ack'`)).toEqual([{ by: 'night-op', comment: 'sensor drift', verdict: 'false_alarm' }]);
    await hmiMqtt.publishAsync(`wwtp/${site}/hmi/loops/do/mode`, JSON.stringify({ by: 'night-op', mode: 'advisory' }), { qos: 1 });
    await until(() => rows(`SELECT 1 FROM operator_actions WHERE action = 'loop_mode'`).length > 0, 'the mode');
    for (let m = 16; m < 22; m += 1) {
      await plc.publishAsync(`wwtp/${site}/aerobic/nh4_n`, JSON.stringify({ value: 8, ts: t0 + m * 60_000 }), { qos: 1 });
    }
    await runtime.idle();
    const hmi = await loginAs('hmi1', 'hmi-pass-1');
    const snapshot = (await (await fetch(`${base}/hmi/api/snapshot`, { headers: { cookie: hmi.cookie } })).json()) as { loops: Record<string, { mode: string; pending?: { value: number } }> };
    expect(snapshot.loops['do']?.mode).toBe('advisory');
    expect(snapshot.loops['do']?.pending?.value).toBeGreaterThan(0);
    await hmiMqtt.publishAsync(`wwtp/${site}/hmi/loops/do/decision`, JSON.stringify({ by: 'night-op', accept: false, comment: 'blowers in service' }), { qos: 1 });
    await until(() => rows(`SELECT 1 FROM operator_actions WHERE action = 'loop_decision'`).length > 0, 'the decision');
    expect(rows('SELECT "by", action, target, source FROM operator_actions ORDER BY seq')).toEqual([
      { by: 'night-op', action: 'alarm_ack', target: alarm, source: 'mqtt' },
      { by: 'night-op', action: 'loop_mode', target: 'do', source: 'mqtt' },
      { by: 'night-op', action: 'loop_decision', target: 'do', source: 'mqtt' },
    ]);
    const again = await fetch(`${base}/hmi/api/loops/do/decision`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: hmi.cookie, 'x-csrf-token': hmi.csrf }, body: '{"accept":true}' });
    expect(again.status).toBe(409);
  });
});

describe('history filters, alarms, models and what-if', () => {
  it('filters history by time range, stage and signal', async () => {
    const page = (await (await fetch(`${base}/api/v1/history/readings?stage=aerobic&signal=nh4_n&from=${t0 + 5 * 60_000}&to=${t0 + 10 * 60_000}`)).json()) as { rows: { ts: number; signal: string }[] };
    expect(page.rows.map((r) => r.ts)).toEqual([5, 6, 7, 8, 9].map((m) => t0 + m * 60_000));
    expect(page.rows.every((r) => r.signal === 'nh4_n')).toBe(true);
    const iso = (await (await fetch(`${base}/api/v1/history/readings?signal=do&from=${new Date(t0).toISOString()}&limit=3`)).json()) as { rows: unknown[] };
    expect(iso.rows).toHaveLength(3);
    expect((await fetch(`${base}/api/v1/history/readings?from=yesterday`)).status).toBe(400);
    expect((await fetch(`${base}/api/v1/history/operator_actions?stage=aerobic`)).status).toBe(400);
    expect((await fetch(`${base}/api/v1/history/readings?signal=do;drop`)).status).toBe(400);
    const alarms = (await (await fetch(`${base}/api/v1/alarms`)).json()) as { alarms: { id: string }[] };
    expect(alarms.alarms.map((a) => a.id)).toContain('limit.aerobic.nh4_n');
    expect((await fetch(`${base}/api/v1/models`)).status).toBe(200);
  });

  it('serves the daily report as JSON, CSV and HTML', async () => {
    const day = new Date(t0).toISOString().slice(0, 10);
    const r = (await (await fetch(`${base}/api/v1/report?day=${day}`)).json()) as { day: string; completeness: { stage: string; signal: string; readings: number }[] };
    expect(r.day).toBe(day);
    const stored = rows(`SELECT COUNT(*) AS n FROM readings WHERE stage = 'aerobic' AND signal = 'nh4_n' AND ts >= ? AND ts < ?`, Date.parse(`${day}T00:00:00Z`), Date.parse(`${day}T00:00:00Z`) + 86_400_000)[0]?.['n'];
    expect(r.completeness.find((c) => c.stage === 'aerobic' && c.signal === 'nh4_n')?.readings).toBe(stored);
    expect((await fetch(`${base}/api/v1/report?day=${day}&format=csv`)).headers.get('content-type')).toContain('text/csv');
    expect((await fetch(`${base}/api/v1/report?day=${day}&format=html`)).headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${base}/api/v1/report?day=02.03.2026`)).status).toBe(400);
  });

  it('answers the what-if for a loop and a value, clamped to the envelope', async () => {
    // the loop drove DO to its maximum (NH4-N 8 mg/L against a target of 2.5): 3 mg/L is in effect
    const same = (await (await fetch(`${base}/api/v1/whatif?loop=do&value=9`)).json()) as { value: number; horizons: { horizonMin: number; baseline: number; predicted: number }[] };
    expect(same.value).toBe(3);
    for (const h of same.horizons) expect(h.predicted).toBeCloseTo(h.baseline, 9);
    const w = (await (await fetch(`${base}/api/v1/whatif?loop=do&value=-1`)).json()) as { value: number; horizons: { horizonMin: number; baseline: number; predicted: number }[] };
    expect(w.value).toBe(0.5);
    expect(w.horizons.map((h) => h.horizonMin)).toEqual([60, 240]);
    // less oxygen: nitrification slows as DO / (0.4 + DO), more ammonium left, more so after 4 h than 1 h
    const steady = (8 * (3 / 3.4)) / (0.5 / 0.9);
    const [h1, h4] = w.horizons;
    expect(h1?.predicted).toBeCloseTo(8 + (steady - 8) * (1 - Math.exp(-1)), 9);
    expect(h4?.predicted).toBeCloseTo(8 + (steady - 8) * (1 - Math.exp(-4)), 9);
    expect((await fetch(`${base}/api/v1/whatif?loop=do&value=abc`)).status).toBe(400);
    expect((await fetch(`${base}/api/v1/whatif?loop=nope&value=1`)).status).toBe(400);
    expect((await fetch(`${base}/api/v1/whatif?loop=coagulant_dose&value=1`)).status).toBe(404);
    // no MLSS reading yet: nothing to start the sludge-age what-if from
    expect((await fetch(`${base}/api/v1/whatif?loop=was_flow&value=400`)).status).toBe(503);
  });
});
