import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { featureValue, parsePlantInput } from '../../src/inference/features.js';
import type { SignalFeatures } from '../../src/contract/ports.js';
import { inputLabel, manifestSchema } from '../../src/onnx/manifest.js';
import { createTwin } from '../../src/sim/index.js';
import { binPath, repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';

/**
 * One detector online and offline: the built daemon (a child process) scores a stage's windows fed by
 * the twin over MQTT with a shipped stage bundle; `wwtp-edge anomaly score` (another child process) scores
 * the same window rows, read back from the daemon's store, with the same bundle. Scores and verdicts agree,
 * also on windows with missing inputs (blank cells offline): scored from the inputs there, or no verdict.
 */
const STAGE = 'aerobic' as const;
const DAY = 86_400_000;
const EPOCH_MS = Date.UTC(2026, 0, 1);
const RUN_DAYS = 0.45;
const FAULT = { kind: 'sensor_bias' as const, stage: STAGE, signal: 'nh4_n', start: 0.25, end: 0.35 };

interface Published {
  readonly ts: number;
  readonly score: number | null;
  readonly verdict?: string;
  readonly missing?: { input: string }[];
  readonly threshold: number;
  readonly isAnomaly: boolean;
  readonly model: string;
}

function runCli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [binPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** The stage's stored windows as anomaly-score CSV rows: one column per bundle input, a blank cell where it was absent or stale. */
function windowsCsv(db: string, inputs: ReturnType<typeof manifestSchema.parse>['inputs']): { csv: string; ends: number[] } {
  const plant = inputs.map((i) => {
    const p = parsePlantInput(i);
    if (!p) throw new Error(`not a plant input: ${JSON.stringify(i)}`);
    return p;
  });
  const store = new Database(db, { readonly: true });
  const rows = store.prepare('SELECT window_end AS windowEnd, features FROM windows WHERE stage = ? ORDER BY window_end').all(STAGE) as { windowEnd: number; features: string }[];
  store.close();
  const lines = [['datetime', ...inputs.map((i) => inputLabel(i))].join(',')];
  const ends: number[] = [];
  for (const row of rows) {
    const signals = JSON.parse(row.features) as Record<string, SignalFeatures | undefined>;
    const values = plant.map((p) => {
      const f = signals[p.signal];
      return f && !f.stale ? featureValue(f, p.feature) : Number.NaN;
    });
    ends.push(row.windowEnd);
    lines.push([String(row.windowEnd), ...values.map((v) => (Number.isFinite(v) ? String(v) : ''))].join(','));
  }
  return { csv: `${lines.join('\n')}\n`, ends };
}

describe('stage detector online (daemon over MQTT) and offline (anomaly score)', () => {
  it('gives the same score and verdict for every window of the same rows', async () => {
    const dir = tempDir('wwtp-detector-');
    const models = join(dir, 'models');
    cpSync(join(repoRoot, 'models', `anomaly-${STAGE}`), join(models, `anomaly-${STAGE}`), { recursive: true });
    const bundleDir = join(models, `anomaly-${STAGE}`, '1.0.0');
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')));
    expect(manifest.postprocess?.aggregate).toBeDefined();
    const site = 'onoff';
    const db = join(dir, 'edge.sqlite');
    const daemon = await startDaemon({
      WWTP_EDGE_SITE: site,
      WWTP_EDGE_BROKER__EMBEDDED__PORT: '0',
      WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null',
      WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true',
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_STORAGE__PATH: db,
      WWTP_EDGE_MODELS__DIR: models,
      // the stage detector's own verdict: no sensor check may mark its rows
      WWTP_EDGE_MODELS__SENSOR_CHECKS__ENABLED: 'false',
      WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
      WWTP_EDGE_INGEST__MAX_FUTURE_SKEW_SEC: String(3650 * 86_400),
    });
    const url = `mqtt://127.0.0.1:${daemon.mqttPort}`;
    const hmi = await mqtt.connectAsync(url, { clientId: 'onoff-hmi' });
    const published: Published[] = [];
    hmi.on('message', (_topic, payload) => published.push(JSON.parse(payload.toString()) as Published));
    await hmi.subscribeAsync(`wwtp/${site}/anomaly/${STAGE}`, { qos: 1 });
    const config = loadConfig();
    const controller = new AbortController();
    const twin = createTwin({ broker: url, site, plant: 'full', influent: 'dry', seed: 77, days: RUN_DAYS, speed: 1_000_000, lockstep: true, epochMs: EPOCH_MS, signals: config.signals, faults: [FAULT] });
    await twin.start(controller.signal);
    await twin.finished();
    await new Promise((r) => setTimeout(r, 1500));
    await twin.stop();
    await hmi.endAsync();
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);

    const { csv, ends } = windowsCsv(db, manifest.inputs);
    const csvFile = join(dir, 'windows.csv');
    writeFileSync(csvFile, csv);
    const offline = await runCli(['anomaly', 'score', '--csv', csvFile, '--model', bundleDir], dir);
    expect(offline.code, offline.stderr).toBe(0);
    const scored = offline.stdout.trim().split('\n').slice(1).map((line) => {
      const [ts, score, threshold, flag, missing] = line.split(',');
      return { ts: Number(ts), score: score === '' ? null : Number(score), threshold: Number(threshold), isAnomaly: flag === '1', missing: missing ? missing.split('|').sort() : [] };
    });

    const online = published.filter((p) => p.model === `anomaly-${STAGE}@1.0.0`);
    // every window the daemon judged is a stored window, and the other way round (the window the daemon
    // flushed on SIGTERM is stored, its message may not reach a subscriber any more)
    expect(scored.map((r) => r.ts)).toEqual(ends);
    expect(online.map((p) => p.ts)).toEqual(ends.slice(0, online.length));
    expect(online.length).toBeGreaterThanOrEqual(ends.length - 1);
    online.forEach((p, i) => {
      const r = scored[i];
      expect(r).toBeDefined();
      if (!r) return;
      expect(p.threshold).toBe(manifest.threshold);
      expect(r.threshold).toBe(manifest.threshold);
      // the same inputs missing, the same verdict kind
      expect((p.missing ?? []).map((m) => m.input).sort(), `window ${new Date(p.ts).toISOString()}`).toEqual(r.missing);
      expect(p.verdict).toBe(r.score === null ? 'none' : r.missing.length > 0 ? 'partial' : 'scored');
      if (p.score === null || r.score === null) {
        expect(p.score).toBe(r.score);
        expect(p.isAnomaly).toBe(false);
        return;
      }
      // anomaly score writes 6 significant digits
      expect(Math.abs(p.score - r.score)).toBeLessThanOrEqual(Math.max(1e-5, 1e-5 * Math.abs(p.score)));
      if (Math.abs(p.score - p.threshold) > 1e-5 * p.threshold) expect(r.isAnomaly, `window ${new Date(p.ts).toISOString()}`).toBe(p.isAnomaly);
    });
    const faultStart = EPOCH_MS + FAULT.start * DAY;
    expect(online.filter((p) => p.isAnomaly && p.ts > faultStart).length).toBeGreaterThan(0);
    // both verdicts occur: the comparison can fail
    expect(online.filter((p) => !p.isAnomaly).length).toBeGreaterThan(ends.length / 2);
  }, 300_000);
});
