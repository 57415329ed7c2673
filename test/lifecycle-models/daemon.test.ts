import { execFile } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import mariadb from 'mariadb';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelsMessage } from '../../src/contract/topics.js';
import { retainedModels as retainedModelsOf } from '../helpers/aeration-history.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { binPath, killAtCleanup, LOCAL_DAEMON_ENV, repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';
import { hashPassword } from '../../src/broker/index.js';
import { dropPrefix, MARIADB_URL, mariadbReachable, uniquePrefix } from '../sync/helpers.js';

/**
 * Issue 15 items 1, 2, 3 and 6 from the outside: the daemon as a child process with two shipped bundles
 * (the aerobic predictor in two versions, the aerobic autoencoder), readings and an operator's ack with a
 * verdict over MQTT. The retained `edge/models`, `/metrics`, `/api/v1/models`, the SQLite file and
 * MariaDB show the live skill, drift, detector counts, the triggers and the activation, rollback and
 * trigger events; `wwtp-edge models activate|rollback` reach the running daemon.
 */
const run = promisify(execFile);
const up = await mariadbReachable();
const prefix = uniquePrefix('lifecycle');
const cleanups = cleanupsAfterEach();
afterAll(() => (up ? dropPrefix(prefix) : undefined));

const SITE = 'lc1';
const T0 = Date.UTC(2026, 10, 2, 6, 0, 0);
const STEP_MS = 60_000;
/** Minutes fed: the predictor reads window means up to 4 h back, so its first forecast comes after 4 h of windows. */
const STEPS = 400;

interface Manifest {
  version: string;
  inputs: { stage: string; signal: string; feature: string }[];
  scaler: { center: number[]; scale: number[] };
}
const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;

/** Each model input signal with a centre and scale from the manifests' scalers (the first that names it). */
function plantSignals(dirs: readonly string[]): Map<string, { center: number; scale: number }> {
  const out = new Map<string, { center: number; scale: number }>();
  for (const dir of dirs) {
    const m = manifestOf(dir);
    m.inputs.forEach((input, j) => {
      const key = `${input.stage}/${input.signal}`;
      if (!out.has(key)) out.set(key, { center: m.scaler.center[j] ?? 0, scale: m.scaler.scale[j] ?? 1 });
    });
  }
  return out;
}

const retainedModels = (port: number, until: (m: ModelsMessage) => boolean, timeoutMs = 30_000): Promise<ModelsMessage> => retainedModelsOf(port, SITE, until, timeoutMs);

const cli = (...args: string[]): Promise<{ stdout: string }> => run(process.execPath, [binPath, ...args], { cwd: repoRoot, env: { ...process.env, WWTP_EDGE_LOG__LEVEL: 'warn' } });

describe('live skill, drift, verdicts and model events from the daemon', () => {
  it('publishes the figures on edge/models, /metrics and /api/v1/models, keeps verdicts and model events in SQLite and MariaDB', async () => {
    const dir = tempDir('wwtp-lifecycle-');
    const modelsDir = join(dir, 'models');
    cpSync(join(repoRoot, 'models', 'anomaly-aerobic'), join(modelsDir, 'anomaly-aerobic'), { recursive: true });
    cpSync(join(repoRoot, 'models', 'predict-aerobic', '1.0.0'), join(modelsDir, 'predict-aerobic', '1.0.0'), { recursive: true });
    // a second version of the predictor: the same graph, named 1.0.1
    cpSync(join(repoRoot, 'models', 'predict-aerobic', '1.0.0'), join(modelsDir, 'predict-aerobic', '1.0.1'), { recursive: true });
    const second = join(modelsDir, 'predict-aerobic', '1.0.1', 'manifest.json');
    writeFileSync(second, JSON.stringify({ ...(JSON.parse(readFileSync(second, 'utf8')) as object), version: '1.0.1' }, null, 2));
    const db = join(dir, 'edge.sqlite');
    // PLCs connect anonymously; the operator logs in with the hmi role
    const overlay = join(dir, 'operators.yaml');
    writeFileSync(overlay, `broker:\n  embedded:\n    users:\n      - { username: night-op, passwordHash: '${await hashPassword('night-shift')}', role: hmi }\n`);
    const daemon = await startDaemon({
      ...LOCAL_DAEMON_ENV,
      WWTP_EDGE_SITE: SITE,
      WWTP_EDGE_STORAGE__PATH: db,
      WWTP_EDGE_MODELS__ENABLED: 'true',
      WWTP_EDGE_MODELS__DIR: modelsDir,
      WWTP_EDGE_MODELS__REGISTRY_POLL_SEC: '0.5',
      WWTP_EDGE_MODELS__LIFECYCLE__PUBLISH_SEC: '0.5',
      WWTP_EDGE_MODELS__LIFECYCLE__DRIFT__MIN_SAMPLES: '5',
      // the live hours here are no whole plant day: drift is judged on them anyway (drift.test.ts covers minDays)
      WWTP_EDGE_MODELS__LIFECYCLE__DRIFT__MIN_DAYS: '0',
      // the schedule counts from the activation on this site: 0.1 days = 144 minutes of the 195 fed
      WWTP_EDGE_MODELS__LIFECYCLE__SCHEDULE__DAYS: '0.1',
      // a trigger switched off stays silent although its threshold is passed
      WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__ENABLED: 'false',
      WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__WINDOWS: '5',
      WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
      WWTP_EDGE_ALARMS__ON_DELAY_SEC: '0',
      ...(up ? { WWTP_EDGE_SYNC__ENABLED: 'true', WWTP_EDGE_SYNC__MARIADB__URL: MARIADB_URL, WWTP_EDGE_SYNC__MARIADB__TABLE_PREFIX: prefix, WWTP_EDGE_SYNC__INTERVAL_MS: '200' } : {}),
    }, ['run', '--config', overlay]);
    cleanups.push(killAtCleanup(daemon));
    const http = (path: string): Promise<Response> => fetch(`http://127.0.0.1:${daemon.httpPort}${path}`);
    const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { reconnectPeriod: 0 });
    cleanups.push(() => plc.endAsync(true));

    // Readings drawn about the training centres (one normal draw per signal and 5-minute window, a little
    // noise per minute); the last fifth of the minutes the aerobic NH4-N analyzer reads 20 training scales high (the
    // detector flags, the anomaly alarm goes up).
    const signals = plantSignals([join(modelsDir, 'predict-aerobic', '1.0.0'), join(modelsDir, 'anomaly-aerobic', '1.0.0')]);
    let seed = 7;
    const uniform = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) + 1) / (2 ** 31 + 1);
    const normal = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const level = new Map<string, number>();
    for (let i = 0; i < STEPS; i += 1) {
      const ts = T0 + i * STEP_MS;
      for (const [key, s] of signals) {
        if (i % 5 === 0) level.set(key, normal());
        const fault = key === 'aerobic/nh4_n' && i >= STEPS - STEPS / 5 ? 20 * s.scale : 0;
        const value = Math.max(0, s.center + s.scale * (0.8 * (level.get(key) ?? 0) + 0.1 * normal()) + fault);
        await plc.publishAsync(`wwtp/${SITE}/${key}`, JSON.stringify({ value: Number(value.toFixed(4)), ts }), { qos: 1 });
      }
    }

    // every window of the readings went through the models (the last one closes at T0 + STEPS - 5 min)
    const flagged = await retainedModels(daemon.mqttPort, (m) => (m.plantTs ?? 0) >= T0 + (STEPS - 10) * STEP_MS && m.models.some((x) => x.model === 'anomaly-aerobic@1.0.0' && (x.detector?.['1d'].flagged ?? 0) > 0));
    expect(flagged.plantTs).toBeGreaterThan(T0);
    // the alarm stands: an ack with a bad verdict is refused whole, one with a verdict is kept
    await expect.poll(async () => ((await (await http('/api/v1/alarms')).json()) as { alarms: { id: string }[] }).alarms.map((a) => a.id), { timeout: 15_000 }).toContain('anomaly.aerobic');
    const hmi = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { reconnectPeriod: 0, username: 'night-op', password: 'night-shift' });
    cleanups.push(() => hmi.endAsync(true));
    await hmi.publishAsync(`wwtp/${SITE}/hmi/alarms/anomaly.aerobic/ack`, JSON.stringify({ by: 'night-op', comment: 'lab says NH4 fine', verdict: 'maybe' }), { qos: 1 });
    await hmi.publishAsync(`wwtp/${SITE}/hmi/alarms/anomaly.aerobic/ack`, JSON.stringify({ by: 'night-op', comment: 'lab says NH4 fine', verdict: 'false_alarm' }), { qos: 1 });

    const judged = await retainedModels(daemon.mqttPort, (m) => m.models.some((x) => x.model === 'anomaly-aerobic@1.0.0' && x.detector?.['7d'].falseAlarms === 1));
    const detector = judged.models.find((x) => x.model === 'anomaly-aerobic@1.0.0');
    expect(detector?.state).toBe('active');
    expect(detector?.detector?.trainingFlagRate).toBeGreaterThan(0);
    expect(detector?.detector?.['7d'].windows).toBeGreaterThan(30);
    expect(detector?.detector?.['7d'].confirmed).toBe(0);
    // the analyzer's offset is named in the detector's drift, the input that moved most
    expect(detector?.drifted).toContain('aerobic.nh4_n.mean');
    const shifts = Object.entries(detector?.drift ?? {}).filter(([k]) => k.endsWith('.mean')).sort((a, b) => Math.abs(b[1]['7d'].shift ?? 0) - Math.abs(a[1]['7d'].shift ?? 0));
    expect(shifts[0]?.[0]).toBe('aerobic.nh4_n.mean');
    expect(shifts[0]?.[1]['7d'].shift).toBeGreaterThan(3);
    const predictor = judged.models.find((x) => x.name === 'predict-aerobic');
    expect(predictor?.version).toBe('1.0.1');
    const skill = predictor?.skill['aerobic.no3_n@15'];
    expect(skill?.['24h'].n).toBeGreaterThan(20);
    expect(skill?.['7d'].n).toBe(skill?.['24h'].n);
    expect(typeof skill?.['24h'].mae).toBe('number');
    expect(Object.keys(predictor?.drift ?? {})).toContain('aerobic.temperature.mean');
    // active on the site since the first window (the bundles' training in 2025 does not count): the
    // 0.1-day schedule fires; new windows is switched off
    expect(predictor?.triggers.map((t) => t.trigger)).toContain('schedule');
    expect(predictor?.triggers.map((t) => t.trigger)).not.toContain('new_windows');
    expect(predictor?.retrainingRequested).toBe(true);

    const metrics = await (await http('/metrics')).text();
    expect(metrics).toMatch(/wwtp_edge_model_live_samples\{model="predict-aerobic@1\.0\.1",target="aerobic\.no3_n@15",window="24h"\} [1-9]/);
    expect(metrics).toContain('wwtp_edge_detector_verdicts{model="anomaly-aerobic@1.0.0",verdict="false_alarm"} 1');
    expect(metrics).toMatch(/wwtp_edge_model_input_psi\{model="anomaly-aerobic@1\.0\.0",input="aerobic\.nh4_n\.mean",window="7d"\} \d/);
    expect(metrics).toContain('wwtp_edge_model_retraining_requested{model="predict-aerobic@1.0.1",trigger="schedule"} 1');
    const api = (await (await http('/api/v1/models')).json()) as { name: string; version: string; state: string; live: { skill: Record<string, unknown> } | null }[];
    expect(api.find((m) => m.name === 'predict-aerobic')?.live?.skill).toHaveProperty(['aerobic.no3_n@15']);

    // the registry through the CLI while the daemon runs: activate 1.0.0, then roll back to 1.0.1
    await cli('models', 'activate', 'predict-aerobic@1.0.0', '--dir', modelsDir);
    const activated = await retainedModels(daemon.mqttPort, (m) => m.models.some((x) => x.model === 'predict-aerobic@1.0.0' && x.state === 'active'));
    // the version it replaced is listed as inactive; a trigger may follow the activation
    expect(activated.models.find((x) => x.model === 'predict-aerobic@1.0.1')?.state).toBe('inactive');
    expect(['activation', 'trigger']).toContain(activated.models.find((x) => x.model === 'predict-aerobic@1.0.0')?.lastEvent?.event);
    await cli('models', 'rollback', 'predict-aerobic', '--dir', modelsDir);
    const rolled = await retainedModels(daemon.mqttPort, (m) => m.models.some((x) => x.model === 'predict-aerobic@1.0.0' && x.state === 'rolled_back'));
    expect(rolled.models.find((x) => x.model === 'predict-aerobic@1.0.1')?.state).toBe('active');
    // the rolled-back version keeps its live figures beside the active one's
    expect(rolled.models.find((x) => x.model === 'predict-aerobic@1.0.0')?.skill).toBeDefined();

    const local = new Database(db, { readonly: true });
    cleanups.push(() => {
      local.close();
    });
    const events = local.prepare('SELECT model, event, "by", previous, reason FROM model_events ORDER BY seq').all() as { model: string; event: string; by: string; previous: string | null; reason: string }[];
    expect(events.filter((e) => e.event !== 'trigger').map((e) => [e.model, e.event, e.by, e.previous])).toEqual([
      ['anomaly-aerobic@1.0.0', 'activation', 'daemon', null],
      ['predict-aerobic@1.0.1', 'activation', 'daemon', null],
      ['predict-aerobic@1.0.0', 'activation', 'cli', '1.0.1'],
      ['predict-aerobic@1.0.1', 'rollback', 'cli', '1.0.0'],
    ]);
    const trigger = events.find((e) => e.event === 'trigger' && e.model === 'predict-aerobic@1.0.1' && e.reason.includes('schedule'));
    expect(trigger?.reason).toMatch(/(^|; )retraining requested: active on this site for 0\.1 days \(schedule 0\.1 days\)/);
    expect(local.prepare("SELECT state, \"by\", comment, verdict FROM alarm_events WHERE alarm_id = 'anomaly.aerobic' AND verdict IS NOT NULL").all()).toEqual([
      { state: 'active_ack', by: 'night-op', comment: 'lab says NH4 fine', verdict: 'false_alarm' },
    ]);
    const refused = local.prepare("SELECT reason, detail FROM deadletters WHERE topic LIKE '%/ack'").all() as { reason: string; detail: string }[];
    expect(refused).toEqual([{ reason: 'invalid_command', detail: expect.stringContaining('verdict "maybe" is not "false_alarm" or "confirmed"') as string }]);
    expect(daemon.logs.some((l) => l.includes('HMI command refused'))).toBe(true);

    if (up) {
      const c = await mariadb.createConnection(MARIADB_URL);
      cleanups.push(() => c.end());
      await expect
        .poll(async () => ((await c.query(`SELECT model, event, \`by\`, previous FROM \`${prefix}model_events\` WHERE site = ? AND event <> 'trigger' ORDER BY ts`, [SITE])) as unknown[]).length, { timeout: 15_000 })
        .toBe(4);
      const central = (await c.query(`SELECT verdict, comment FROM \`${prefix}alarm_events\` WHERE site = ? AND verdict IS NOT NULL`, [SITE])) as unknown[];
      expect(central).toEqual([{ verdict: 'false_alarm', comment: 'lab says NH4 fine' }]);
    }
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);
  }, 120_000);
});
