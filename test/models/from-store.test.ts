import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parsePlantInput } from '../../src/inference/features.js';
import { eventFigures, flagEpisodes, signalRange, skillOf } from '../../src/models/metrics.js';
import { PREDICTOR_SPECS } from '../../src/models/specs.js';
import { AERATION_MAP, aerationCsv, runCli } from '../helpers/aeration-history.js';
import { tempDir } from '../helpers/daemon.js';

const cli = runCli;

const START = Date.UTC(2024, 2, 1);
const DAYS = 3;
/** Aerobic nitrate climbs by this much a minute: persistence misses a horizon of h minutes by exactly h x RAMP. */
const RAMP = 0.002;

/**
 * A plant with an influent and an aerobic stage only (no primary, anoxic or effluent; no aerobic
 * temperature), one row a minute as a historian exports it.
 */
const plantCsv = (): string => aerationCsv(START, DAYS, (m) => 2 + RAMP * m);

const MAP = AERATION_MAP;

describe('learning from the plant\'s own history (train --from-store, models evaluate)', () => {
  it('MSE skill is 1 for a perfect forecast, 0 for persistence itself, and below 0 for a worse one', () => {
    const measured = [1, 2, 3, 4, 5, 6];
    const persistence = [0, 1, 2, 3, 4, 5];
    expect(skillOf(measured, measured, persistence).mseSkill).toBe(1);
    expect(skillOf(persistence, measured, persistence).mseSkill).toBe(0);
    const worse = skillOf(measured.map((v) => v + 2), measured, persistence);
    expect(worse.mse).toBe(4);
    expect(worse.mseSkill).toBe(1 - 4 / 1);
  });

  it('flag episodes against confirmed events: precision, recall and the delay to the first flag', () => {
    const W = 300_000;
    const flags = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => ({ ts: i * W, flagged: [2, 3, 8].includes(i) }));
    const episodes = flagEpisodes(flags, W);
    expect(episodes).toEqual([{ start: 2 * W, end: 3 * W }, { start: 8 * W, end: 8 * W }]);
    // One event from window 1 to 4 (found two windows late), one from 10 to 11 (missed).
    const figures = eventFigures(episodes, [{ start: W, end: 4 * W }, { start: 10 * W, end: 11 * W }], 0);
    expect(figures).toMatchObject({ precision: 0.5, recall: 0.5, delayMin: 5, events: 2, detected: 1, flagEpisodes: 2 });
    const range = signalRange(Array.from({ length: 101 }, (_, i) => i));
    expect(range).toMatchObject({ n: 101, min: 0, max: 100 });
    expect(range?.quantiles).toMatchObject({ p1: 1, p50: 50, p99: 99 });
  });

  it('trains on the older part of an imported history, leaves out what the plant lacks, and judges on the later block', async () => {
    const dir = tempDir('wwtp-from-store-');
    const csv = join(dir, 'history.csv');
    const map = join(dir, 'plant.map.yaml');
    const db = join(dir, 'store.sqlite');
    const out = join(dir, 'models');
    writeFileSync(csv, plantCsv());
    writeFileSync(map, MAP);
    const env = { WWTP_EDGE_STORAGE__PATH: db, WWTP_EDGE_INGEST__MAX_AGE_DAYS: '100000', WWTP_EDGE_STORAGE__RETENTION_DAYS__READINGS: '100000' };

    const imported = await cli(['import', '--csv', csv, '--map', map], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`${DAYS * 1440} rows`);

    // Train on the first two days; the store's third day is never seen in training.
    const until = new Date(START + 2 * 86_400_000).toISOString();
    const trained = await cli(['train', 'predictors', '--from-store', '--until', until, '--out', out], env);
    expect(trained.code, trained.stderr).toBe(0);
    const stderr = trained.stderr.split('\n');
    // A plant without primary, anoxic and effluent stages: those predictors are left out, one line each, with the reason.
    for (const stage of ['primary', 'anoxic', 'effluent']) expect(stderr.filter((l) => l.startsWith(`left out predict-${stage}: no readings of its target`))).toHaveLength(1);
    expect(stderr).toContain('left out predict-aerobic input aerobic.temperature.mean: no readings in the store');
    expect(stderr.some((l) => l.startsWith('left out predict-aerobic:'))).toBe(false);

    // Time blocks: trained on the older windows, the most recent third of the span held out, nothing at or after --until.
    const blocks = /trained on (\S+) to (\S+) \((\d+) windows\); held out (\S+) to (\S+) \((\d+) windows\)/.exec(trained.stderr);
    expect(blocks, trained.stderr).not.toBeNull();
    const [trainFirst, trainLast, heldFirst, heldLast] = [blocks?.[1], blocks?.[2], blocks?.[4], blocks?.[5]].map((t) => Date.parse(t ?? ''));
    expect(trainLast).toBeLessThan(heldFirst ?? 0);
    // A window ending at --until holds readings before it only.
    expect(heldLast).toBeLessThanOrEqual(Date.parse(until));
    const cut = (heldLast ?? 0) - ((heldLast ?? 0) - (trainFirst ?? 0)) / 3;
    expect(heldFirst).toBeGreaterThanOrEqual(cut);
    expect(trainLast).toBeLessThan(cut);

    const line = trained.stdout.split('\n').find((l) => l.startsWith('predict-aerobic@'));
    expect(line).toBeDefined();
    const version = (line ?? '').split(' ')[0]?.split('@')[1] ?? '';
    const manifest = JSON.parse(readFileSync(join(out, 'predict-aerobic', version, 'manifest.json'), 'utf8')) as {
      inputs: { stage: string; signal: string }[];
      targets: { feature: string }[];
      metrics: Record<string, number>;
      eligibility: { bar: number; barHorizonsMin: number[]; targets: Record<string, { eligible: boolean; reason: string }> };
      learntFrom: { first: string; last: string; heldOut: { first: string; last: string; windows: number }; signals: Record<string, { min: number; max: number; quantiles: Record<string, number> }> };
    };
    expect(manifest.inputs.some((i) => i.stage === 'anoxic' || i.signal === 'temperature')).toBe(false);
    expect(Date.parse(manifest.learntFrom.first)).toBe(trainFirst);
    expect(Date.parse(manifest.learntFrom.last)).toBe(trainLast);
    expect(Date.parse(manifest.learntFrom.heldOut.first)).toBe(heldFirst);
    const no3 = manifest.learntFrom.signals['aerobic.no3_n'];
    // The ramp over the training block: 2 + RAMP x minute, up to the last training window.
    expect(no3?.min).toBeGreaterThanOrEqual(2);
    expect(no3?.max).toBeLessThan(2 + RAMP * (((trainLast ?? 0) - START) / 60_000) + 0.01);
    expect(Object.keys(no3?.quantiles ?? {})).toEqual(['p1', 'p10', 'p20', 'p30', 'p40', 'p50', 'p60', 'p70', 'p80', 'p90', 'p99']);

    // The horizons are the specs' (not the test's): every one is judged.
    const aerobicSpec = PREDICTOR_SPECS.find((s) => s.stage === 'aerobic');
    const horizons = [...new Set((aerobicSpec?.targets ?? []).filter((t) => t.signal === 'no3_n').map((t) => parsePlantInput(t)?.horizonMin ?? 0))];
    expect(horizons.length).toBeGreaterThan(0);
    for (const h of horizons) expect(manifest.metrics[`mseSkill.aerobic.no3_n@+${h}m`]).toBeTypeOf('number');
    // Persistence of a ramp is off by a constant the predictor learns: nitrate meets the skill bar and is published.
    for (const h of horizons) expect(manifest.eligibility.targets[`aerobic.no3_n@+${h}m`], JSON.stringify(manifest.eligibility.targets)).toMatchObject({ eligible: true });
    expect(manifest.eligibility).toMatchObject({ bar: 0.3, barHorizonsMin: [60, 240] });

    // An operator confirmed one alarm on the aerobic stage in the evaluated block.
    const evalStart = Date.parse(until);
    const store = new Database(db);
    const alarm = store.prepare("INSERT INTO alarm_events (alarm_id, ts, state, severity, stage, signal, message, by, verdict) VALUES ('anomaly.aerobic', ?, ?, 'medium', 'aerobic', NULL, '\"test\"', NULL, ?)");
    alarm.run(evalStart + 3_600_000, 'active_unack', null);
    alarm.run(evalStart + 3_600_000, 'active_ack', 'confirmed');
    alarm.run(evalStart + 7_200_000, 'cleared', null);
    store.close();

    const ae = await cli(['train', 'autoencoder', '--from-store', '--until', until, '--out', out], env);
    expect(ae.code, ae.stderr).toBe(0);
    expect(ae.stderr.split('\n').filter((l) => l.startsWith('left out anomaly-primary:'))).toHaveLength(1);

    const evaluated = await cli(['models', 'evaluate', out, '--from-store', '--since', until, '--json'], env);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout) as {
      since: string;
      windows: number;
      predictors: { model: string; stage: string; signal: string; horizonMin: number; n: number; r2: number; mape: number; mae: number; mse: number; msePersistence: number; mseSkill: number }[];
      detectors: { model: string; stage: string; windows: number; flaggedShare: number; flagsPerDay: number; events?: { events: number; precision: number | null; recall: number | null } }[];
    };
    expect(result.since).toBe(until);
    // The third day at 5-min windows.
    expect(result.windows).toBeGreaterThan(280);
    expect(result.windows).toBeLessThanOrEqual(288);
    const no3Rows = result.predictors.filter((p) => p.stage === 'aerobic' && p.signal === 'no3_n');
    expect(no3Rows.map((p) => p.horizonMin).sort((a, b) => a - b)).toEqual([...horizons].sort((a, b) => a - b));
    for (const p of no3Rows) {
      expect(p.n).toBeGreaterThan(200);
      // Persistence of a ramp misses by the ramp over the horizon, every time.
      expect(p.msePersistence).toBeCloseTo((RAMP * p.horizonMin) ** 2, 7);
      expect(p.mseSkill).toBeCloseTo(1 - p.mse / p.msePersistence, 9);
      for (const k of ['r2', 'mape', 'mae', 'mse'] as const) expect(p[k]).toBeTypeOf('number');
    }
    expect(result.predictors.some((p) => p.stage === 'primary' || p.stage === 'anoxic' || p.stage === 'effluent')).toBe(false);
    const aerobicDetector = result.detectors.find((d) => d.stage === 'aerobic');
    expect(aerobicDetector?.windows).toBeGreaterThan(200);
    expect(aerobicDetector?.flagsPerDay).toBeTypeOf('number');
    expect(aerobicDetector?.events?.events).toBe(1);
    expect(result.detectors.find((d) => d.stage === 'influent')?.events).toBeUndefined();

    const table = await cli(['models', 'evaluate', out, '--from-store', '--since', until], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/MSE skill/);
    expect(table.stdout).toMatch(/predict-aerobic@\S+\s+aerobic\.no3_n/);
  }, 120_000);
});
