import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/index.js';
import type { RecommendationMessage, SetpointMessage } from '../../src/contract/topics.js';
import { startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon.js';
import { browserMissing, openBrowser } from './browser.js';

/**
 * The operator's screen, driven in Debian's Chromium against the daemon as a child process: readings
 * arrive over MQTT from a PLC user, the operator works the page, and the effects are checked on the
 * broker (setpoints, recommendations) and in the SQLite file (alarm_events, operator_actions).
 */
const site = `hmib${process.pid}`;
const ALARM = 'limit.aerobic.nh4_n';
let daemon: DaemonProcess;
let plc: MqttClient;
let watcher: MqttClient;
let dbPath: string;
let base: string;
const setpoints: SetpointMessage[] = [];
const recommendations: RecommendationMessage[] = [];
/** Event time of the readings: hours ago, minute by minute, so windows close as they arrive. */
const t0 = Math.floor((Date.now() - 6 * 3_600_000) / 300_000) * 300_000;
let minute = 0;

async function publishMinutes(n: number, nh4 = 8): Promise<void> {
  for (let i = 0; i < n; i += 1, minute += 1) {
    const ts = t0 + minute * 60_000;
    await plc.publishAsync(`wwtp/${site}/aerobic/nh4_n`, JSON.stringify({ value: nh4, ts }), { qos: 1 });
    await plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 1.9, ts }), { qos: 1 });
  }
}

async function login(page: Page, user: string, password: string): Promise<void> {
  await page.goto(base);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect.poll(() => page.locator('#live').textContent(), { timeout: 15_000 }).toBe('live');
}

describe.skipIf(browserMissing)('web HMI in Chromium', () => {
  let browser: BrowserContext;

  beforeAll(async () => {
    const dir = tempDir('wwtp-hmi-browser-');
    dbPath = join(dir, 'edge.sqlite');
    const users = [
      { username: 'plc1', passwordHash: await hashPassword('plc-pass-1'), role: 'plc' },
      { username: 'hmi1', passwordHash: await hashPassword('hmi-pass-1'), role: 'hmi' },
      { username: 'viewer1', passwordHash: await hashPassword('viewer-pass-1'), role: 'viewer' },
    ];
    const configFile = join(dir, 'config.yaml');
    writeFileSync(
      configFile,
      JSON.stringify({
        site,
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, users } },
        http: { port: 0 },
        hmi: { liveIntervalMs: 200 },
        storage: { path: dbPath },
        models: { enabled: false },
        sync: { enabled: false },
        windows: { allowedLatenessSec: 0 },
        alarms: { onDelaySec: 0, limits: [{ stage: 'aerobic', signal: 'nh4_n', high: 5, severity: 'high' }] },
        control: { loops: [{ id: 'do', stage: 'aerobic', unit: 'mg/L', min: 0.5, max: 3.0, maxStep: 0.5, fallback: 2.0, feedback: 'aerobic.do', params: { minQuality: 0 } }] },
      }),
    );
    daemon = await startDaemon({}, ['run', '--config', configFile]);
    base = `http://127.0.0.1:${daemon.httpPort}/`;
    const url = `mqtt://127.0.0.1:${daemon.mqttPort}`;
    plc = await mqtt.connectAsync(url, { clientId: `plc-${site}`, username: 'plc1', password: 'plc-pass-1' });
    watcher = await mqtt.connectAsync(url, { clientId: `watch-${site}`, username: 'viewer1', password: 'viewer-pass-1' });
    watcher.on('message', (topic, payload) => {
      if (topic.endsWith('/setpoint/do')) setpoints.push(JSON.parse(payload.toString()) as SetpointMessage);
      if (topic.endsWith('/recommendation/do')) recommendations.push(JSON.parse(payload.toString()) as RecommendationMessage);
    });
    await watcher.subscribeAsync(`wwtp/${site}/aerobic/#`, { qos: 1 });
    browser = await openBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await plc?.endAsync();
    await watcher?.endAsync();
    daemon?.child.kill('SIGTERM');
    await daemon?.exited();
  });

  it('an operator sees live values, acknowledges with a verdict, accepts a recommendation after its what-if, takes a loop to manual and back', async () => {
    const page = await browser.newPage();
    await login(page, 'hmi1', 'hmi-pass-1');

    // live values as readings arrive over MQTT
    const cell = page.getByTestId('value-aerobic.do');
    await plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 1.23, ts: t0 }), { qos: 1 });
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe('1.23');
    await plc.publishAsync(`wwtp/${site}/aerobic/do`, JSON.stringify({ value: 2.34, ts: t0 + 30_000 }), { qos: 1 });
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe('2.34');
    minute = 1;

    // a process limit raises an alarm; the operator acknowledges it with a comment and a verdict
    await publishMinutes(16);
    await page.getByRole('link', { name: /Alarms/ }).click();
    const ack = page.getByRole('button', { name: `Acknowledge ${ALARM}` });
    await ack.waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByTestId(`state-${ALARM}`).textContent()).toBe('active_unack');
    await page.getByRole('textbox', { name: `Comment ${ALARM}` }).fill('probe cleaned, reading true');
    await page.getByRole('combobox', { name: `Verdict ${ALARM}` }).selectOption('confirmed');
    await ack.click();
    await expect.poll(() => page.getByTestId(`state-${ALARM}`).textContent(), { timeout: 10_000 }).toBe('active_ack (hmi1)');
    const db = new Database(dbPath, { readonly: true });
    const acked = db.prepare(`SELECT "by", comment, verdict, acked_at FROM alarm_events WHERE alarm_id = ? AND state = 'active_ack'`).get(ALARM) as Record<string, unknown>;
    expect(acked).toMatchObject({ by: 'hmi1', comment: 'probe cleaned, reading true', verdict: 'confirmed' });
    expect(acked['acked_at']).toBeGreaterThan(Date.now() - 120_000);

    // advisory: the loop recommends, the operator looks at the what-if and accepts
    await page.getByRole('link', { name: 'Loops' }).click();
    await page.getByRole('button', { name: 'Advisory do' }).click();
    await expect.poll(() => page.getByTestId('mode-do').textContent(), { timeout: 10_000 }).toBe('advisory');
    const before = setpoints.length;
    await publishMinutes(11);
    const accept = page.getByRole('button', { name: 'Accept do' });
    await accept.waitFor({ timeout: 15_000 });
    expect(setpoints.length).toBe(before);
    await expect.poll(() => recommendations.at(-1)?.status, { timeout: 10_000 }).toBe('pending');
    const pending = recommendations.at(-1);
    expect(pending, JSON.stringify(pending)).toMatchObject({ unit: 'mg/L', mode: 'auto' });
    await page.getByRole('button', { name: 'What-if do' }).click();
    const whatIf = page.getByTestId('whatif-do');
    await expect.poll(() => whatIf.textContent(), { timeout: 10_000 }).toContain('aerobic nh4_n');
    expect(await whatIf.getByRole('row').count()).toBe(3);
    await accept.click();
    await expect.poll(() => setpoints.length, { timeout: 10_000 }).toBe(before + 1);
    // the step limit counts again at the decision: from the measured DO (1.9) once the last setpoint expired
    expect(setpoints.at(-1)).toMatchObject({ mode: 'auto', value: Math.min(pending?.value ?? NaN, 1.9 + 0.5) });
    expect(setpoints.at(-1)?.reason).toMatch(/^accepted by hmi1: /);
    await expect.poll(() => recommendations.at(-1)?.status).toBe('accepted');
    expect(recommendations.at(-1)?.decidedBy).toBe('hmi1');

    // the loop to manual with a value, then back to auto
    await page.getByRole('spinbutton', { name: 'Manual value do' }).fill('1.7');
    await page.getByRole('button', { name: 'Manual do' }).click();
    await expect.poll(() => page.getByTestId('mode-do').textContent(), { timeout: 10_000 }).toBe('manual');
    await expect.poll(() => setpoints.at(-1)).toMatchObject({ mode: 'manual', value: 1.7, reason: 'manual by hmi1' });
    await page.getByRole('button', { name: 'Auto do' }).click();
    await expect.poll(() => page.getByTestId('mode-do').textContent(), { timeout: 10_000 }).toBe('auto');
    await expect.poll(() => setpoints.at(-1)?.mode).toBe('auto');

    // the edge page: the PLC and the watcher are on the embedded broker
    await page.getByRole('link', { name: 'Edge' }).click();
    await expect.poll(() => page.getByTestId('edge-metrics').textContent(), { timeout: 10_000 }).toMatch(/broker clients[2-9]/);

    const actions = db.prepare('SELECT "by", action, target, source FROM operator_actions ORDER BY seq').all();
    expect(actions).toEqual([
      { by: 'hmi1', action: 'alarm_ack', target: ALARM, source: 'http' },
      { by: 'hmi1', action: 'loop_mode', target: 'do', source: 'http' },
      { by: 'hmi1', action: 'loop_decision', target: 'do', source: 'http' },
      { by: 'hmi1', action: 'loop_mode', target: 'do', source: 'http' },
      { by: 'hmi1', action: 'loop_mode', target: 'do', source: 'http' },
    ]);
    const decision = db.prepare(`SELECT detail FROM operator_actions WHERE action = 'loop_decision'`).get() as { detail: string };
    expect(JSON.parse(decision.detail)).toMatchObject({ loop: 'do', accept: true, recommendation: { value: pending?.value } });
    db.close();
    await page.close();
  }, 120_000);

  it('a viewer sees the controls disabled and every action refused by the daemon', async () => {
    const viewer = await openBrowser({ width: 1024, height: 600 });
    try {
      const page = await viewer.newPage();
      await login(page, 'viewer1', 'viewer-pass-1');
      await page.getByRole('link', { name: 'Loops' }).click();
      expect(await page.getByRole('button', { name: 'Manual do' }).isDisabled()).toBe(true);
      await page.getByRole('link', { name: /Alarms/ }).click();
      expect(await page.getByRole('button', { name: `Acknowledge ${ALARM}` }).isDisabled()).toBe(true);
      const statuses = await page.evaluate(async (alarm) => {
        const { csrf } = (await (await fetch('/hmi/api/session')).json()) as { csrf: string };
        const post = async (path: string, body: unknown): Promise<number> =>
          (await fetch(`/hmi/api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) })).status;
        return [
          await post(`alarms/${alarm}/ack`, { verdict: 'false_alarm' }),
          await post(`alarms/${alarm}/shelve`, { minutes: 10 }),
          await post('loops/do/mode', { mode: 'manual', value: 1 }),
          await post('loops/do/decision', { accept: true }),
        ];
      }, ALARM);
      expect(statuses).toEqual([403, 403, 403, 403]);
      // the 10-inch panel: no page scrolls sideways
      for (const name of ['Overview', 'Loops', 'Alarms', 'Trends', 'Edge']) {
        await page.getByRole('link', { name: new RegExp(`^${name}`) }).click();
        await page.locator('#view h1', { hasText: name === 'Overview' ? 'Plant overview' : name === 'Loops' ? 'Control loops' : name }).waitFor();
        expect(Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')), name).toBeLessThanOrEqual(0);
      }
      const db = new Database(dbPath, { readonly: true });
      expect((db.prepare(`SELECT COUNT(*) AS n FROM operator_actions WHERE "by" = 'viewer1'`).get() as { n: number }).n).toBe(0);
      db.close();
    } finally {
      await viewer.close();
    }
  }, 60_000);
});
