import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { lifecycleSchema } from '../../src/config/sections/lifecycle.js';
import { judgeGate, type GateReport } from '../../src/lifecycle/gate.js';
import type { DetectorEvaluation, Evaluation, TargetEvaluation } from '../../src/models/evaluate.js';
import type { EpisodeReplay, JudgedFigures } from '../../src/models/judged-episodes.js';
import { AERATION_MAP, aerationCsv, runCli } from '../helpers/aeration-history.js';
import { tempDir } from '../helpers/daemon.js';

const gate = lifecycleSchema.parse({}).gate;
const target = (model: string, mse: number, mseSkill: number, n = 100): TargetEvaluation => ({
  model, stage: 'aerobic', signal: 'no3_n', horizonMin: 60, n, r2: 0.9, mape: 5, mae: Math.sqrt(mse), mse, mseSkill, msePersistence: mse / (1 - mseSkill),
});
const detector = (model: string, flaggedShare: number, recall?: number): DetectorEvaluation => ({
  model, stage: 'aerobic', windows: 1000, flagged: flaggedShare * 1000, flaggedShare, flagsPerDay: 1, days: 3,
  ...(recall !== undefined ? { events: { events: 2, detected: recall * 2, flagEpisodes: 3, precision: 0.7, recall, delayMin: 5 } } : {}),
});
const evaluation = (predictors: TargetEvaluation[], detectors: DetectorEvaluation[] = []): Evaluation => ({ since: '2024-03-03T00:00:00.000Z', until: '2024-03-04T00:00:00.000Z', windows: 288, predictors, detectors, skipped: [] });

describe('quality gate: candidate against the active version on one block', () => {
  it('passes a candidate that beats persistence and is not worse than the active version', () => {
    const r = judgeGate(evaluation([target('p@2', 0.010, 0.6), target('p@1', 0.0100, 0.6)]), 'p@2', 'p@1', gate);
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => [c.check, c.passed])).toEqual([['beats_persistence', true], ['not_worse', true]]);
  });

  it('refuses a candidate worse than the active one, or no better than persistence, naming each bar', () => {
    const worse = judgeGate(evaluation([target('p@2', 0.02, 0.4), target('p@1', 0.01, 0.7)]), 'p@2', 'p@1', gate);
    expect(worse.passed).toBe(false);
    expect(worse.reasons).toEqual(["aerobic.no3_n@60: MSE 0.0200 must not exceed the active version's 0.0100 by more than 2 %"]);
    const persistent = judgeGate(evaluation([target('p@2', 0.02, -0.1)]), 'p@2', null, gate);
    expect(persistent.reasons).toEqual(['aerobic.no3_n@60: MSE skill over persistence -0.100 must be above 0']);
    // Better on the block, but none of its targets met the skill bar on its own held-out block: it would publish nothing.
    const silent = judgeGate(evaluation([target('p@2', 0.005, 0.8), target('p@1', 0.01, 0.6)]), 'p@2', 'p@1', gate, [],
      { bar: 0.3, barHorizonsMin: [60, 240], targets: { 'aerobic.no3_n@+60m': { eligible: false, mseSkill: 0.1, reason: 'aerobic.no3_n misses the bar' } } });
    expect(silent.reasons).toEqual(['publishes none of its 1 targets: none met the skill bar on its held-out block (aerobic.no3_n misses the bar)']);
    const unjudged = judgeGate(evaluation([target('p@2', Number.NaN, Number.NaN, 0)]), 'p@2', null, gate);
    expect(unjudged.reasons).toEqual(['aerobic.no3_n@60: no prediction could be compared on the block']);
  });

  it('refuses a detector that flags more normal windows or misses confirmed events the active one caught', () => {
    const noisy = judgeGate(evaluation([], [detector('a@2', 0.05, 1), detector('a@1', 0.02, 1)]), 'a@2', 'a@1', gate);
    expect(noisy.reasons).toEqual(["aerobic: flagged share 0.050 must stay within 0.01 of the active version's 0.020"]);
    const blind = judgeGate(evaluation([], [detector('a@2', 0.02, 0.5), detector('a@1', 0.02, 1)]), 'a@2', 'a@1', gate);
    expect(blind.reasons).toEqual(["aerobic: recall of the confirmed events 0.50 must reach the active version's 1.00"]);
    expect(judgeGate(evaluation([], [detector('a@2', 0.025, 1), detector('a@1', 0.02, 1)]), 'a@2', 'a@1', gate).passed).toBe(true);
    // Flagging half the block beside an active version that does too is no detector: the bar of normal operation.
    const flooded = judgeGate(evaluation([], [detector('a@2', 0.5, 1), detector('a@1', 0.5, 1)]), 'a@2', 'a@1', gate);
    expect(flooded.reasons).toEqual(['aerobic: flagged share 0.500 must not exceed 0.05 (normal operation)']);
  });

  it("replays the operators' verdicts: every confirmed event the active one caught, and fewer or none of the false alarms", () => {
    const T = Date.UTC(2024, 2, 5);
    const episode = (i: number, verdict: EpisodeReplay['verdict'], flagged: boolean): EpisodeReplay => ({ alarmId: 'anomaly.aerobic', start: T + i * 86_400_000, verdict, windows: 8, flagged });
    const figures = (model: string, episodes: EpisodeReplay[]): JudgedFigures => ({
      model, stage: 'aerobic', episodes,
      falseAlarms: episodes.filter((e) => e.verdict === 'false_alarm').length, falseAlarmsRaised: episodes.filter((e) => e.verdict === 'false_alarm' && e.flagged).length,
      confirmed: episodes.filter((e) => e.verdict === 'confirmed').length, confirmedCaught: episodes.filter((e) => e.verdict === 'confirmed' && e.flagged).length,
    });
    const active = figures('a@1', [episode(0, 'false_alarm', true), episode(1, 'false_alarm', true), episode(2, 'confirmed', true), episode(3, 'confirmed', false)]);
    const detectors = [detector('a@2', 0.02), detector('a@1', 0.02)];
    const judge = (candidate: EpisodeReplay[]): GateReport => judgeGate(evaluation([], detectors), 'a@2', 'a@1', gate, [figures('a@2', candidate), active]);

    // Learnt the false alarms, caught the event the active one caught (the one it missed does not count).
    const good = judge([episode(0, 'false_alarm', false), episode(1, 'false_alarm', false), episode(2, 'confirmed', true), episode(3, 'confirmed', false)]);
    expect(good.passed).toBe(true);
    expect(good.checks.map((c) => [c.check, c.candidate, c.active, c.bar])).toEqual([['flag_rate', 0.02, null, 0.05], ['flag_rate', 0.02, 0.02, 0.03], ['events_caught', 1, 1, 1], ['false_alarms', 0, 2, 1]]);
    expect(good.verdicts).toHaveLength(2);
    // Fewer false alarms than the active one passes; as many fails.
    expect(judge([episode(0, 'false_alarm', true), episode(1, 'false_alarm', false), episode(2, 'confirmed', true)]).passed).toBe(true);
    const same = judge([episode(0, 'false_alarm', true), episode(1, 'false_alarm', true), episode(2, 'confirmed', true)]);
    expect(same.reasons).toEqual(["aerobic: raises 2 of the 2 alarms operators marked false; must raise none, or fewer than the active version's 2"]);
    // Missing an event the active one caught fails, whatever its recall on the block.
    const blind = judge([episode(0, 'false_alarm', false), episode(1, 'false_alarm', false), episode(2, 'confirmed', false), episode(3, 'confirmed', true)]);
    expect(blind.reasons).toEqual([`aerobic: caught 0 of the 1 confirmed events the active version caught (missed the ones raised at ${new Date(T + 2 * 86_400_000).toISOString()})`]);
  });
});

const cli = runCli;

const START = Date.UTC(2024, 2, 1);
const DAYS = 3;

/** An influent and an aerobic stage, one row a minute; aerobic nitrate climbs steadily. */
const plantCsv = (): string => aerationCsv(START, DAYS, (m) => 2 + 0.002 * m);
const MAP = AERATION_MAP;

describe('wwtp-edge models activate --from-store', () => {
  it('judges the candidate against the active version on the store, keeps the report in model_events, and refuses below the bar', async () => {
    const dir = tempDir('wwtp-gate-');
    const [csv, map, db, out] = [join(dir, 'history.csv'), join(dir, 'plant.map.yaml'), join(dir, 'store.sqlite'), join(dir, 'models')];
    writeFileSync(csv, plantCsv());
    writeFileSync(map, MAP);
    const env = { WWTP_EDGE_STORAGE__PATH: db, WWTP_EDGE_INGEST__MAX_AGE_DAYS: '100000', WWTP_EDGE_STORAGE__RETENTION_DAYS__READINGS: '100000', WWTP_EDGE_SITE: 'gate1' };
    expect((await cli(['import', '--csv', csv, '--map', map], env)).code).toBe(0);
    const until = new Date(START + 2 * 86_400_000).toISOString();
    const trained = await cli(['train', 'predictors', '--from-store', '--until', until, '--out', out], env);
    expect(trained.code, trained.stderr).toBe(0);
    const version = /predict-aerobic@(\S+)/.exec(trained.stdout)?.[1] ?? '';
    // the same bundle again as a candidate version
    const candidate = `${version}-b`;
    cpSync(join(out, 'predict-aerobic', version), join(out, 'predict-aerobic', candidate), { recursive: true });
    const manifestFile = join(out, 'predict-aerobic', candidate, 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify({ ...(JSON.parse(readFileSync(manifestFile, 'utf8')) as object), version: candidate }, null, 2));
    expect((await cli(['models', 'activate', `predict-aerobic@${version}`, '--dir', out], env)).code).toBe(0);

    // The ramp is an easy forecast (the candidate's skill comes within 1e-4 of a perfect 1): at the highest
    // bar, MSE skill above 1, the gate refuses it with the reasons per target and exits 1; the active version stays.
    const refused = await cli(['models', 'activate', `predict-aerobic@${candidate}`, '--dir', out, '--from-store'], { ...env, WWTP_EDGE_MODELS__LIFECYCLE__GATE__MIN_SKILL: '1' });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(/not activated: aerobic\.\w+@\d+: MSE skill over persistence -?[\d.]+ must be above 1/);
    const kept = JSON.parse(readFileSync(join(out, 'registry.json'), 'utf8')) as { models: Record<string, { history: string[] }> };
    expect(kept.models['predict-aerobic']?.history.at(-1)).toBe(version);

    // With the persistence bar lowered out of the way, the candidate is judged against the active version
    // alone (the same graph: not worse) and activated.
    const passed = await cli(['models', 'activate', `predict-aerobic@${candidate}`, '--dir', out, '--from-store'], { ...env, WWTP_EDGE_MODELS__LIFECYCLE__GATE__MIN_SKILL: '-1e12' });
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toMatch(new RegExp(`predict-aerobic@${candidate}: gate passed on \\d+ windows from \\S+ against predict-aerobic@${version}`));
    const registry = JSON.parse(readFileSync(join(out, 'registry.json'), 'utf8')) as { models: Record<string, { history: string[] }> };
    expect(registry.models['predict-aerobic']?.history.at(-1)).toBe(candidate);

    expect(existsSync(db)).toBe(true);
    const store = new Database(db, { readonly: true });
    const rows = store.prepare("SELECT model, event, \"by\", previous, reason, detail FROM model_events WHERE event = 'gate' ORDER BY seq").all() as { model: string; event: string; by: string; previous: string; reason: string; detail: string }[];
    store.close();
    expect(rows.map((r) => [r.model, r.by, r.previous, r.reason.startsWith('gate passed'), (JSON.parse(r.detail) as GateReport).passed])).toEqual([
      [`predict-aerobic@${candidate}`, 'cli', version, false, false],
      [`predict-aerobic@${candidate}`, 'cli', version, true, true],
    ]);
    const report = JSON.parse(rows[1]?.detail ?? '{}') as GateReport;
    expect(report.active).toBe(`predict-aerobic@${version}`);
    // the block starts after the candidate's own training and held-out data
    expect(Date.parse(report.since)).toBeGreaterThan(START);
    const notWorse = report.checks.filter((c) => c.check === 'not_worse');
    expect(notWorse.length).toBeGreaterThan(0);
    for (const c of notWorse) expect(c.candidate).toBe(c.active);
  }, 240_000);
});
