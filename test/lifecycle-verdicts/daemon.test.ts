import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/broker/index.js';
import type { AlarmMessage } from '../../src/contract/topics.js';
import type { GateReport } from '../../src/lifecycle/gate.js';
import { AERATION_MAP, aerationCsv, aerationLevel, retainedModels, runCli, type AerationLevel } from '../helpers/aeration-history.js';
import { cleanupsAfterEach } from '../helpers/cleanups.js';
import { killAtCleanup, LOCAL_DAEMON_ENV, startDaemon, tempDir } from '../helpers/daemon.js';

/**
 * The operators' verdicts change the next detector, from the outside. Four days of an aeration plant's
 * history are imported and the aerobic detector trained on them is active in the daemon (a child process,
 * its embedded broker). Six more days arrive over MQTT: every morning the diffusers are cleaned with an
 * air scour (airflow up by half for half an hour, nothing else moves), a harmless routine the active
 * detector has never seen, so it raises `anomaly.aerobic` every day; an operator acks each of those
 * alarms over MQTT with `"verdict": "false_alarm"`. Twice a real fault (dissolved oxygen collapses
 * while the blowers run on) raises the same alarm, acked `"confirmed"`. The detector is retrained from
 * the store (`train autoencoder --from-store`), scored on the later days (`models evaluate
 * --from-store`) and gated against the active one (`models activate --from-store`): it no longer flags
 * the scour and still catches the fault. The same retraining from a copy of the store without the
 * verdicts learns the first fault as normal and misses the second; the gate refuses it. In the daemon,
 * the sixth false alarm fires the `falseAlarms` trigger: the background retraining learns from the
 * verdicts too and its gate replays the judged episodes.
 */
const cleanups = cleanupsAfterEach();

const SITE = 'vd1';
const START = Date.UTC(2024, 2, 1);
const HISTORY_DAYS = 4;
const LIVE_DAYS = 6;
const DAY_MIN = 1440;
const SCOUR = { from: 10 * 60, to: 10 * 60 + 30 };
const FAULT = { from: 15 * 60, to: 16 * 60 + 30 };
/** Days (from START) with the real fault; the first in the retrained detector's training block, the second held out. */
const FAULT_DAYS = [5, 8];

const base = (m: number): AerationLevel => aerationLevel(m, (_minute, day) => 6 + 2 * Math.sin(day - 0.7));

/** The plant at minute m of the live days: the morning scour, the fault on its days. */
function live(m: number): AerationLevel {
  const v = base(m);
  const day = Math.floor(m / DAY_MIN);
  const minute = m % DAY_MIN;
  if (minute >= SCOUR.from && minute < SCOUR.to) return { ...v, airflow: v.airflow * 1.5 };
  if (FAULT_DAYS.includes(day) && minute >= FAULT.from && minute < FAULT.to) return { ...v, do: 0.4 };
  return v;
}

const iso = (m: number): string => new Date(START + m * 60_000).toISOString();

interface Evaluated {
  windows: number;
  detectors: { model: string; stage: string; windows: number; flagged: number; flagsPerDay: number; days: number; events?: { events: number; detected: number; flagEpisodes: number; precision: number | null; recall: number | null } }[];
}

async function publishMinutes(plc: MqttClient, from: number, to: number): Promise<void> {
  for (let m = from; m < to; m += 1) {
    const v = live(m);
    const ts = START + m * 60_000;
    for (const [topic, value] of [['influent/flow', v.flow], ['aerobic/do', v.do], ['aerobic/airflow', v.airflow], ['aerobic/no3_n', v.no3_n]] as const) {
      await plc.publishAsync(`wwtp/${SITE}/${topic}`, JSON.stringify({ value: Number(value.toFixed(4)), ts }), { qos: 1 });
    }
  }
}

/** The next alarm message on `anomaly.aerobic` that matches. */
function nextAlarm(client: MqttClient, until: (a: AlarmMessage) => boolean, what: string): Promise<AlarmMessage> {
  return new Promise((resolve, reject) => {
    let last: AlarmMessage | undefined;
    const timer = setTimeout(() => {
      client.off('message', on);
      reject(new Error(`no alarm ${what}; last: ${JSON.stringify(last)}`));
    }, 30_000);
    const on = (topic: string, payload: Buffer): void => {
      if (topic !== `wwtp/${SITE}/alarms/anomaly.aerobic` || payload.length === 0) return;
      last = JSON.parse(payload.toString()) as AlarmMessage;
      if (!until(last)) return;
      clearTimeout(timer);
      client.off('message', on);
      resolve(last);
    };
    client.on('message', on);
  });
}

describe("operators' verdicts change the next detector", () => {
  it('a recurring false alarm is learnt as normal and a confirmed fault is still caught, through MQTT acks, train --from-store, evaluate and the gate', async () => {
    const dir = tempDir('wwtp-verdicts-');
    const [csv, map, db, first, modelsDir] = [join(dir, 'history.csv'), join(dir, 'plant.map.yaml'), join(dir, 'edge.sqlite'), join(dir, 'first'), join(dir, 'models')];
    writeFileSync(csv, aerationCsv(START, HISTORY_DAYS, (m) => base(m).no3_n));
    writeFileSync(map, AERATION_MAP);
    const env = {
      ...LOCAL_DAEMON_ENV,
      WWTP_EDGE_SITE: SITE,
      WWTP_EDGE_STORAGE__PATH: db,
      WWTP_EDGE_INGEST__MAX_AGE_DAYS: '100000',
      WWTP_EDGE_STORAGE__RETENTION_DAYS__READINGS: '100000',
      WWTP_EDGE_STORAGE__RETENTION_DAYS__DERIVED: '100000',
    };
    const imported = await runCli(['import', '--csv', csv, '--map', map], env);
    expect(imported.code, imported.stderr).toBe(0);

    // The active detector: trained on the history, before the scour routine began.
    const trained = await runCli(['train', 'autoencoder', '--from-store', '--out', first], env);
    expect(trained.code, trained.stderr).toBe(0);
    const firstVersion = /anomaly-aerobic@(\S+)/.exec(trained.stdout)?.[1] ?? '';
    // No alarm judged yet: nothing learnt from verdicts.
    expect(trained.stderr).toContain('verdicts anomaly-aerobic: 0 false alarms (0 windows, weight 0) learnt as normal; 0 confirmed events (0 windows) left out of normal data');
    const bundle = (root: string, name: string, from: string, version: string): string => {
      const to = join(modelsDir, name, version);
      cpSync(join(root, name, from), to, { recursive: true });
      const file = join(to, 'manifest.json');
      writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), version }, null, 2));
      return to;
    };
    const active = bundle(first, 'anomaly-aerobic', firstVersion, '1');
    expect((await runCli(['models', 'activate', 'anomaly-aerobic@1', '--dir', modelsDir], env)).code).toBe(0);

    const users = JSON.stringify([{ username: 'op1', passwordHash: await hashPassword('op-pass-1'), role: 'hmi' }]);
    const daemon = await startDaemon({
      ...env,
      WWTP_EDGE_MODELS__ENABLED: 'true',
      WWTP_EDGE_MODELS__DIR: modelsDir,
      WWTP_EDGE_BROKER__EMBEDDED__USERS: users,
      // Only the operators' false alarms ask for retraining here: the sixth one starts it in the background.
      WWTP_EDGE_MODELS__LIFECYCLE__PUBLISH_SEC: '0.5',
      WWTP_EDGE_MODELS__LIFECYCLE__SKILL__ENABLED: 'false',
      WWTP_EDGE_MODELS__LIFECYCLE__DRIFT__ENABLED: 'false',
      WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__ENABLED: 'false',
      WWTP_EDGE_MODELS__LIFECYCLE__FALSE_ALARMS__COUNT: '6',
      WWTP_EDGE_MODELS__LIFECYCLE__RETRAIN__ENABLED: 'true',
    });
    cleanups.push(killAtCleanup(daemon));
    const url = `mqtt://127.0.0.1:${daemon.mqttPort}`;
    const plc = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    cleanups.push(() => plc.endAsync(true));
    const operator = await mqtt.connectAsync(url, { reconnectPeriod: 0, username: 'op1', password: 'op-pass-1' });
    cleanups.push(() => operator.endAsync(true));
    await operator.subscribeAsync(`wwtp/${SITE}/alarms/anomaly.aerobic`, { qos: 1 });

    // Each alarm the active detector raises is judged by the operator before the plant goes on.
    const judged: { day: number; verdict: 'false_alarm' | 'confirmed'; raisedAt: number }[] = [];
    const judge = async (day: number, from: number, verdict: 'false_alarm' | 'confirmed'): Promise<void> => {
      const raised = nextAlarm(operator, (a) => a.raisedAt >= START + from * 60_000 && a.state !== 'shelved', `raised after ${iso(from)}`);
      const until = from + 75;
      await publishMinutes(plc, publishedTo, until);
      publishedTo = until;
      const alarm = await raised;
      const acked = nextAlarm(operator, (a) => a.raisedAt === alarm.raisedAt && a.ackedBy === 'op1', 'acked');
      await operator.publishAsync(`wwtp/${SITE}/hmi/alarms/anomaly.aerobic/ack`, JSON.stringify({ by: 'op1', comment: verdict === 'confirmed' ? 'DO lost, blowers running' : 'morning air scour', verdict }), { qos: 1 });
      await acked;
      judged.push({ day, verdict, raisedAt: alarm.raisedAt });
    };
    let publishedTo = HISTORY_DAYS * DAY_MIN;
    for (let day = HISTORY_DAYS; day < HISTORY_DAYS + LIVE_DAYS; day += 1) {
      await judge(day, day * DAY_MIN + SCOUR.from, 'false_alarm');
      if (FAULT_DAYS.includes(day)) await judge(day, day * DAY_MIN + FAULT.from, 'confirmed');
    }
    await publishMinutes(plc, publishedTo, (HISTORY_DAYS + LIVE_DAYS) * DAY_MIN);
    expect(judged.map((j) => [j.day, j.verdict])).toEqual([[4, 'false_alarm'], [5, 'false_alarm'], [5, 'confirmed'], [6, 'false_alarm'], [7, 'false_alarm'], [8, 'false_alarm'], [8, 'confirmed'], [9, 'false_alarm']]);
    // The background candidate, trained and gated in the daemon's child.
    const gatedInBackground = await retainedModels(daemon.mqttPort, SITE, (m) => m.models.some((x) => x.name === 'anomaly-aerobic' && x.version !== '1' && x.lastEvent?.event === 'gate'), 300_000);
    const background = gatedInBackground.models.find((x) => x.name === 'anomaly-aerobic' && x.version !== '1');
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);
    const backgroundManifest = JSON.parse(readFileSync(join(modelsDir, 'candidates', 'anomaly-aerobic', background?.version ?? '', 'manifest.json'), 'utf8')) as { training: { verdicts: Record<string, number> } };
    // Trained on the store as it was at the sixth false alarm: scours and the first fault in its training block.
    expect(backgroundManifest.training.verdicts['falseAlarms']).toBeGreaterThanOrEqual(2);
    expect(backgroundManifest.training.verdicts['falseAlarmWeight']).toBeGreaterThan(1);
    expect(backgroundManifest.training.verdicts['confirmed']).toBe(2);
    const local = new Database(db, { readonly: true });
    const trigger = local.prepare("SELECT reason FROM model_events WHERE model = 'anomaly-aerobic@1' AND event = 'trigger'").all() as { reason: string }[];
    const backgroundGate = local.prepare("SELECT detail FROM model_events WHERE model = ? AND event = 'gate'").get(`anomaly-aerobic@${background?.version ?? ''}`) as { detail: string } | undefined;
    local.close();
    expect(trigger.map((t) => t.reason)).toEqual(['retraining requested: operators marked 6 alarms false over 7 days (threshold 6)']);
    const backgroundReport = JSON.parse(backgroundGate?.detail ?? '{}') as GateReport;
    expect(backgroundReport.active).toBe('anomaly-aerobic@1');
    expect(backgroundReport.checks.filter((c) => c.check === 'false_alarms' || c.check === 'events_caught').map((c) => [c.check, c.candidate, c.active, c.passed])).toEqual([
      ['events_caught', 2, 2, true],
      ['false_alarms', 0, 6, true],
    ]);

    // The verdicts as the daemon stored them, with the alarm events.
    const store = new Database(db, { readonly: true });
    const verdicts = store.prepare("SELECT verdict, COUNT(*) AS n FROM alarm_events WHERE alarm_id = 'anomaly.aerobic' AND verdict IS NOT NULL GROUP BY verdict ORDER BY verdict").all();
    store.close();
    expect(verdicts).toEqual([{ verdict: 'confirmed', n: 2 }, { verdict: 'false_alarm', n: 6 }]);

    // Without the verdicts: the same store, the operators' verdicts wiped.
    const blind = join(dir, 'blind.sqlite');
    cpSync(db, blind);
    const wipe = new Database(blind);
    wipe.prepare('UPDATE alarm_events SET verdict = NULL').run();
    wipe.close();

    // Retrained on the whole store: trained on days 0 to 6.7, held out the rest (scours of days 7-9, fault of day 8).
    const [next, control] = [join(dir, 'next'), join(dir, 'control')];
    const retrained = await runCli(['train', 'autoencoder', '--from-store', '--out', next], env);
    expect(retrained.code, retrained.stderr).toBe(0);
    const used = /verdicts anomaly-aerobic: (\d+) false alarms \((\d+) windows, weight (\d+)\) learnt as normal; (\d+) confirmed events \((\d+) windows\) left out/.exec(retrained.stderr);
    expect(used, retrained.stderr).not.toBeNull();
    const [falseAlarms, falseWindows, weight, confirmed, confirmedWindows] = (used ?? []).slice(1).map(Number);
    // The scours of days 4, 5 and 6 lie in the training block; both faults are kept out of normal data.
    expect(falseAlarms).toBe(3);
    expect(falseWindows).toBeGreaterThanOrEqual(3 * 6);
    expect(weight).toBeGreaterThan(1);
    expect(confirmed).toBe(2);
    expect(confirmedWindows).toBeGreaterThanOrEqual(2 * 18);
    const nextVersion = /anomaly-aerobic@(\S+)/.exec(retrained.stdout)?.[1] ?? '';
    const manifest = JSON.parse(readFileSync(join(next, 'anomaly-aerobic', nextVersion, 'manifest.json'), 'utf8')) as { training: { verdicts: Record<string, number> }; metrics: Record<string, number>; threshold: number };
    expect(manifest.training.verdicts).toEqual({ falseAlarms, falseAlarmWindows: falseWindows, falseAlarmWeight: weight, confirmed, confirmedWindows });
    expect(manifest.metrics['falseAlarmScoreMax']).toBeLessThan(manifest.threshold);
    const candidate = bundle(next, 'anomaly-aerobic', nextVersion, '2');

    const blindEnv = { ...env, WWTP_EDGE_STORAGE__PATH: blind };
    const unjudged = await runCli(['train', 'autoencoder', '--from-store', '--out', control], blindEnv);
    expect(unjudged.code, unjudged.stderr).toBe(0);
    expect(unjudged.stderr).toContain('verdicts anomaly-aerobic: 0 false alarms (0 windows, weight 0) learnt as normal; 0 confirmed events (0 windows) left out of normal data');
    const controlVersion = /anomaly-aerobic@(\S+)/.exec(unjudged.stdout)?.[1] ?? '';
    const unlabelled = join(control, 'anomaly-aerobic', controlVersion);

    // The later days (7 to 9): three scours and the second fault, never trained on.
    const later = iso(7 * DAY_MIN);
    const evaluate = async (bundleDir: string): Promise<Evaluated['detectors'][number]> => {
      const r = await runCli(['models', 'evaluate', bundleDir, '--from-store', '--since', later, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const d = (JSON.parse(r.stdout) as Evaluated).detectors.find((x) => x.stage === 'aerobic');
      expect(d?.windows).toBeGreaterThan(800);
      return d as Evaluated['detectors'][number];
    };
    const [before, after, without] = [await evaluate(active), await evaluate(candidate), await evaluate(unlabelled)];
    const episodes = (d: typeof before): number => Math.round(d.flagsPerDay * d.days);
    // The active detector: a flag episode each scour and one on the fault; precision a quarter.
    expect(episodes(before)).toBe(4);
    expect(before.events).toMatchObject({ events: 1, detected: 1, recall: 1, precision: 0.25 });
    // Retrained with the verdicts: the scour is no longer flagged, the fault still is, and nothing else.
    expect(episodes(after)).toBe(1);
    expect(after.events).toMatchObject({ events: 1, detected: 1, recall: 1, precision: 1 });
    // Retrained without them: the first fault was learnt as normal, the second is missed.
    expect(without.events?.recall).toBe(0);

    // The gate replays every judged episode of the store: the candidate raises none of the six false
    // alarms the active one raised and catches both faults it caught.
    const gated = await runCli(['models', 'activate', 'anomaly-aerobic@2', '--dir', modelsDir, '--from-store'], env);
    expect(gated.code, gated.stderr).toBe(0);
    bundle(control, 'anomaly-aerobic', controlVersion, '3');
    const refused = await runCli(['models', 'activate', 'anomaly-aerobic@3', '--dir', modelsDir, '--from-store'], env);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/aerobic: caught 0 of the 2 confirmed events the active version caught|aerobic: caught 1 of the 2 confirmed events the active version caught/);
    const events = new Database(db, { readonly: true });
    const rows = events.prepare(`SELECT model, detail FROM model_events WHERE event = 'gate' AND "by" = 'cli' ORDER BY seq`).all() as { model: string; detail: string }[];
    events.close();
    const passed = JSON.parse(rows[0]?.detail ?? '{}') as GateReport;
    expect(passed).toMatchObject({ candidate: 'anomaly-aerobic@2', active: 'anomaly-aerobic@1', passed: true });
    expect(passed.checks.filter((c) => c.check === 'false_alarms' || c.check === 'events_caught').map((c) => [c.check, c.candidate, c.active, c.passed])).toEqual([
      ['events_caught', 2, 2, true],
      ['false_alarms', 0, 6, true],
    ]);
    const failed = JSON.parse(rows[1]?.detail ?? '{}') as GateReport;
    expect(failed).toMatchObject({ candidate: 'anomaly-aerobic@3', active: 'anomaly-aerobic@2', passed: false });
  }, 600_000);
});
