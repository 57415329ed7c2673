import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { manifestSchema, inputLabel } from '../../src/onnx/manifest.js';
import { repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';

/**
 * Windows with missing inputs through the built daemon (a child process) and its embedded broker: the
 * aerobic stage's signals arrive over MQTT, its temperature only for the first quarter of an hour, the
 * anoxic stage's never. The aerobic detector is scored from the inputs there and says which were stale;
 * the anoxic detector gives no verdict and says every input was absent; the aerobic predictor, whose
 * inputs are missing, publishes nothing, and the reason is counted and logged once.
 */
const SITE = 'gaps';
const T0 = Date.UTC(2026, 2, 2, 6, 0);
const MINUTES = 62;
const TEMPERATURE_UNTIL_MIN = 15;
const MODELS = ['anomaly-aerobic', 'anomaly-anoxic', 'predict-aerobic'] as const;

interface Missing {
  readonly input: string;
  readonly reason: string;
}

interface Published {
  readonly ts: number;
  readonly score: number | null;
  readonly isAnomaly: boolean;
  readonly model: string;
  readonly verdict?: string;
  readonly missing?: Missing[];
}

interface StoredAnomaly {
  readonly ts: number;
  readonly score: number | null;
  readonly is_anomaly: number;
  readonly model: string;
  readonly verdict: string | null;
  readonly missing: string | null;
}

describe('daemon windows with missing inputs', () => {
  it('scores a stage from the inputs there, gives no verdict without any, publishes no prediction, and says why', async () => {
    const dir = tempDir('wwtp-missing-');
    const models = join(dir, 'models');
    for (const name of MODELS) cpSync(join(repoRoot, 'models', name), join(models, name), { recursive: true });
    const aerobic = manifestSchema.parse(JSON.parse(readFileSync(join(models, 'anomaly-aerobic', '1.0.0', 'manifest.json'), 'utf8')));
    const anoxic = manifestSchema.parse(JSON.parse(readFileSync(join(models, 'anomaly-anoxic', '1.0.0', 'manifest.json'), 'utf8')));
    const db = join(dir, 'edge.sqlite');
    const daemon = await startDaemon({
      WWTP_EDGE_SITE: SITE,
      WWTP_EDGE_BROKER__EMBEDDED__PORT: '0',
      WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null',
      WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true',
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_STORAGE__PATH: db,
      WWTP_EDGE_MODELS__DIR: models,
      // the detectors' own verdicts: no sensor check may mark their rows
      WWTP_EDGE_MODELS__SENSOR_CHECKS__ENABLED: 'false',
      WWTP_EDGE_CONTROL__ENABLED: 'false',
      WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
      WWTP_EDGE_INGEST__MAX_FUTURE_SKEW_SEC: String(3650 * 86_400),
    });
    const url = `mqtt://127.0.0.1:${daemon.mqttPort}`;
    const hmi = await mqtt.connectAsync(url, { clientId: 'gaps-hmi' });
    const published: Published[] = [];
    hmi.on('message', (_topic, payload) => published.push(JSON.parse(payload.toString()) as Published));
    await hmi.subscribeAsync(`wwtp/${SITE}/anomaly/+`, { qos: 1 });
    await hmi.subscribeAsync(`wwtp/${SITE}/+/prediction/+`, { qos: 0 });

    // The aerobic signals near the detector's training centre, each minute; temperature stops at minute 15.
    const centre = new Map<string, number>();
    aerobic.inputs.forEach((input, j) => {
      if (typeof input !== 'string' && input.feature === 'mean') centre.set(input.signal, aerobic.scaler.center[j] ?? 0);
    });
    expect(centre.has('temperature')).toBe(true);
    const plc = await mqtt.connectAsync(url, { clientId: 'gaps-plc' });
    for (let m = 0; m < MINUTES; m += 1) {
      for (const [signal, level] of centre) {
        if (signal === 'temperature' && m >= TEMPERATURE_UNTIL_MIN) continue;
        const value = level * (1 + 0.01 * Math.sin(m / 3 + signal.length));
        await plc.publishAsync(`wwtp/${SITE}/aerobic/${signal}`, JSON.stringify({ value, ts: T0 + m * 60_000 }), { qos: 1 });
      }
    }
    await plc.endAsync();
    // every window but the last closes on the readings' event time; let the daemon score and publish them
    const deadline = Date.now() + 20_000;
    while (published.filter((p) => p.model === 'anomaly-aerobic@1.0.0').length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const metrics = await (await fetch(`http://127.0.0.1:${daemon.httpPort}/metrics`)).text();
    await hmi.endAsync();
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);

    const store = new Database(db, { readonly: true });
    const rows = store.prepare('SELECT ts, score, is_anomaly, model, verdict, missing FROM anomalies ORDER BY ts, model').all() as StoredAnomaly[];
    const window = store.prepare("SELECT features FROM windows WHERE stage = 'aerobic' AND window_end = ?").get(T0 + 30 * 60_000) as { features: string } | undefined;
    const predictions = store.prepare('SELECT COUNT(*) AS n FROM predictions').get() as { n: number };
    const alarms = store.prepare("SELECT alarm_id FROM alarm_events WHERE alarm_id LIKE 'anomaly.%'").all();
    store.close();

    // the stored window says the temperature went stale
    expect(window).toBeDefined();
    expect((JSON.parse(window?.features ?? '{}') as Record<string, { stale: boolean }>)['temperature']?.stale).toBe(true);

    const aerobicRows = rows.filter((r) => r.model === 'anomaly-aerobic@1.0.0');
    const anoxicRows = rows.filter((r) => r.model === 'anomaly-anoxic@1.0.0');
    expect(aerobicRows.length).toBeGreaterThanOrEqual(12);
    expect(anoxicRows.length).toBe(aerobicRows.length);
    const temperatureInputs = aerobic.inputs.filter((i) => typeof i !== 'string' && i.signal === 'temperature').map((i) => inputLabel(i));
    for (const r of aerobicRows) {
      expect(r.score, `aerobic ${new Date(r.ts).toISOString()}`).not.toBeNull();
      if (r.ts <= T0 + TEMPERATURE_UNTIL_MIN * 60_000) {
        expect(r.verdict).toBe('scored');
        expect(r.missing).toBeNull();
      } else if (r.ts >= T0 + (TEMPERATURE_UNTIL_MIN + 10) * 60_000) {
        expect(r.verdict).toBe('partial');
        const missing = JSON.parse(r.missing ?? '[]') as Missing[];
        expect(missing.map((m) => m.input).sort()).toEqual([...temperatureInputs].sort());
        expect(new Set(missing.map((m) => m.reason))).toEqual(new Set(['stale']));
      }
    }
    // no signal of the anoxic stage: no verdict, no score, never anomalous, every input named
    const anoxicInputs = anoxic.inputs.map((i) => inputLabel(i)).sort();
    for (const r of anoxicRows) {
      expect(r.verdict).toBe('none');
      expect(r.score).toBeNull();
      expect(r.is_anomaly).toBe(0);
      const missing = JSON.parse(r.missing ?? '[]') as Missing[];
      expect(missing.map((m) => m.input).sort()).toEqual(anoxicInputs);
      expect(new Set(missing.map((m) => m.reason))).toEqual(new Set(['absent']));
    }
    expect(alarms.filter((a) => (a as { alarm_id: string }).alarm_id === 'anomaly.anoxic')).toEqual([]);

    // the published topic says the same
    const anoxicMessages = published.filter((p) => p.model === 'anomaly-anoxic@1.0.0');
    expect(anoxicMessages.length).toBeGreaterThanOrEqual(10);
    for (const p of anoxicMessages) {
      expect(p.verdict).toBe('none');
      expect(p.score).toBeNull();
      expect(p.isAnomaly).toBe(false);
      expect(p.missing?.map((m) => m.input).sort()).toEqual(anoxicInputs);
    }
    const partial = published.filter((p) => p.model === 'anomaly-aerobic@1.0.0' && p.ts >= T0 + (TEMPERATURE_UNTIL_MIN + 10) * 60_000);
    expect(partial.length).toBeGreaterThan(3);
    for (const p of partial) {
      expect(p.verdict).toBe('partial');
      expect(typeof p.score).toBe('number');
      expect(p.missing?.map((m) => m.input).sort()).toEqual([...temperatureInputs].sort());
    }
    const full = published.filter((p) => p.model === 'anomaly-aerobic@1.0.0' && p.ts <= T0 + TEMPERATURE_UNTIL_MIN * 60_000);
    expect(full.length).toBeGreaterThan(0);
    for (const p of full) expect(p).toMatchObject({ verdict: 'scored', missing: [] });

    // the predictor with missing inputs: nothing published or stored, the reason counted and logged once
    expect(predictions.n).toBe(0);
    expect(published.filter((p) => p.model.startsWith('predict-'))).toEqual([]);
    const counted = (model: string, reason: string): number => {
      const line = metrics.split('\n').find((l) => l.startsWith(`wwtp_edge_model_missing_inputs_total{model="${model}",reason="${reason}"}`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    expect(counted('predict-aerobic@1.0.0', 'absent')).toBeGreaterThan(0);
    // every input of every window without a verdict, counted by its reason
    expect(counted('anomaly-anoxic@1.0.0', 'absent') % anoxicInputs.length).toBe(0);
    expect(counted('anomaly-anoxic@1.0.0', 'absent')).toBeGreaterThanOrEqual(10 * anoxicInputs.length);
    expect(counted('anomaly-aerobic@1.0.0', 'stale')).toBeGreaterThan(0);
    const noPrediction = daemon.logs.filter((l) => l.includes('no prediction published: inputs missing') && l.includes('predict-aerobic@1.0.0'));
    expect(noPrediction).toHaveLength(1);
    expect(daemon.logs.filter((l) => l.includes('no anomaly verdict: every input missing') && l.includes('anomaly-anoxic@1.0.0'))).toHaveLength(1);
  }, 120_000);
});
