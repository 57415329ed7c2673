import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateModel, createInference, listModels, rollbackModel, MODELS_STATE_KEY } from '../../src/inference/index.js';
import { sha256 } from '../../src/onnx/bundle.js';
import { readRegistry } from '../../src/inference/registry-file.js';
import { aerobicNormal, buildTinyAutoencoder, buildTinyPredictor, features, manualClock, plantWindow, tempDir, testContext } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

describe('model registry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('models');
    await buildTinyAutoencoder(dir, 'v1', 7);
    await buildTinyAutoencoder(dir, 'v2', 8);
    await buildTinyPredictor(dir, 'v1');
  });

  it('loads the newest version of every model and scores, predicts, publishes and stores', async () => {
    const { ctx, rec } = testContext(dir);
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      expect(inference.models().map((m) => `${m.name}@${m.version}`)).toEqual(['anomaly-aerobic@v2', 'predict-effluent@v1']);
      const normal = await inference.onWindow(plantWindow(T0 + 300_000, { aerobic: aerobicNormal(1.5) }));
      expect(normal.anomalies).toHaveLength(1);
      expect(normal.anomalies[0]?.isAnomaly).toBe(false);
      expect(normal.predictions).toEqual([expect.objectContaining({ stage: 'effluent', signal: 'no3_n', horizonMin: 15, unit: 'mg/L', model: 'predict-effluent@v1' })]);
      expect(Math.abs((normal.predictions[0]?.value ?? 0) - 1.1 * 11)).toBeLessThan(1.5);
      // nh4 high while DO is high breaks the learned relation
      const odd = await inference.onWindow(plantWindow(T0 + 600_000, { aerobic: { ...aerobicNormal(2), nh4_n: features(2.9) } }));
      const row = odd.anomalies[0];
      expect(row?.isAnomaly).toBe(true);
      const contributors = JSON.parse(row?.contributors ?? '[]') as { signal: string; share: number }[];
      expect(contributors.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 2);
      expect(rec.raised.map((a) => a.id)).toContain('anomaly.aerobic');
      expect(rec.published.filter((p) => p.kind === 'anomaly')).toHaveLength(2);
      expect(rec.published.filter((p) => p.kind === 'prediction')).toHaveLength(2);
      expect(rec.rows.map((r) => r.table)).toEqual(expect.arrayContaining(['anomalies', 'predictions']));
      expect(rec.state.get(MODELS_STATE_KEY)).toMatchObject({ active: { 'anomaly-aerobic': 'v2', 'predict-effluent': 'v1' } });
    } finally {
      await inference.stop();
      await inference.stop();
    }
  });

  it('skips a predictor whose inputs are missing or stale; scores a detector from the inputs there, or gives no verdict', async () => {
    const { ctx } = testContext(dir);
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      const out = await inference.onWindow(plantWindow(T0 + 300_000, { aerobic: { do: features(1), nh4_n: features(2, { stale: true }) } }));
      expect(out.predictions).toEqual([]);
      expect(out.skipped.map((s) => s.model)).toEqual(['predict-effluent@v1']);
      const missing = [{ input: 'aerobic.nh4_n.mean', reason: 'stale' }, { input: 'aerobic.no3_n.mean', reason: 'absent' }];
      expect(out.anomalies).toHaveLength(1);
      const partial = out.anomalies[0];
      expect(partial).toMatchObject({ model: 'anomaly-aerobic@v2', verdict: 'partial' });
      expect(JSON.parse(partial?.missing ?? '[]')).toEqual(missing);
      expect(typeof partial?.score).toBe('number');
      // a missing input has no part in the score
      expect((JSON.parse(partial?.contributors ?? '[]') as { signal: string; share: number }[]).filter((c) => c.share > 0).map((c) => c.signal)).toEqual(['do']);

      const none = await inference.onWindow(plantWindow(T0 + 600_000, { aerobic: {} }));
      // the sensor checks' own verdict on the stage stays beside it, in its own row
      expect(none.anomalies.filter((a) => a.model !== 'sensor-checks')).toHaveLength(1);
      expect(none.anomalies[0]).toMatchObject({ model: 'anomaly-aerobic@v2', verdict: 'none', score: null, isAnomaly: false, contributors: '[]' });
      expect((JSON.parse(none.anomalies[0]?.missing ?? '[]') as { reason: string }[]).map((m) => m.reason)).toEqual(['absent', 'absent', 'absent']);
    } finally {
      await inference.stop();
    }
  });

  it('swaps atomically under concurrent inference with zero failed runs, then rolls back', async () => {
    const { ctx, rec } = testContext(dir);
    const inference = createInference(ctx);
    const events: string[] = [];
    inference.onActivation((e) => events.push(`${e.action}:${e.name}@${e.version}`));
    await inference.start(new AbortController().signal);
    try {
      await inference.activate('anomaly-aerobic', 'v1');
      const runs: Promise<Awaited<ReturnType<typeof inference.onWindow>>>[] = [];
      let swap: Promise<unknown> = Promise.resolve();
      for (let i = 0; i < 300; i += 1) {
        runs.push(inference.onWindow(plantWindow(T0 + (i + 1) * 300_000, { aerobic: aerobicNormal(1 + (i % 10) / 10) })));
        if (i === 100) swap = inference.activate('anomaly-aerobic', 'v2');
        if (i === 200) swap = swap.then(() => inference.rollback('anomaly-aerobic'));
      }
      const results = await Promise.all(runs);
      await swap;
      expect(results.every((r) => r.anomalies.length === 1 && r.predictions.length === 1)).toBe(true);
      const versions = new Set(results.map((r) => r.anomalies[0]?.model));
      expect(versions.has('anomaly-aerobic@v1')).toBe(true);
      expect(rec.raised.filter((a) => a.id.startsWith('model.'))).toEqual([]);
      expect(inference.models().find((m) => m.name === 'anomaly-aerobic')?.version).toBe('v1');
      expect(events).toEqual(expect.arrayContaining(['activate:anomaly-aerobic@v1', 'activate:anomaly-aerobic@v2', 'rollback:anomaly-aerobic@v1']));
      const state = await readRegistry(dir);
      expect(state.models['anomaly-aerobic']?.history).toEqual(['v2', 'v1']);
    } finally {
      await inference.stop();
    }
  });

  it('follows activations made by the CLI through registry.json', async () => {
    const clock = manualClock();
    const { ctx } = testContext(dir, clock);
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      const event = await activateModel(dir, 'anomaly-aerobic@v2', { now: () => 1 });
      expect(event).toMatchObject({ name: 'anomaly-aerobic', version: 'v2', by: 'cli' });
      const seen = new Promise<string>((resolve) => inference.onActivation((e) => resolve(e.version)));
      clock.tick();
      expect(await seen).toBe('v2');
      const listing = await listModels(dir);
      expect(listing.filter((l) => l.active).map((l) => `${l.name}@${l.version}`)).toEqual(['anomaly-aerobic@v2', 'predict-effluent@v1']);
      await rollbackModel(dir, 'anomaly-aerobic');
      expect((await readRegistry(dir)).models['anomaly-aerobic']?.history.at(-1)).toBe('v1');
      await expect(rollbackModel(dir, 'predict-effluent')).rejects.toMatchObject({ code: 'MODEL_NO_PREVIOUS' });
    } finally {
      await inference.stop();
    }
  });
});

describe('verification gate', () => {
  it('refuses a bundle whose model.onnx was changed', async () => {
    const dir = tempDir('tamper');
    await buildTinyAutoencoder(dir, 'v1', 7);
    const file = join(dir, 'anomaly-aerobic', 'v1', 'model.onnx');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    await expect(activateModel(dir, 'anomaly-aerobic@v1')).rejects.toMatchObject({ code: 'BUNDLE_SHA_MISMATCH' });
    const listing = await listModels(dir);
    expect(listing[0]?.problem).toMatch(/sha256/);
  });

  it('refuses a re-signed bundle whose weights no longer reproduce the reference outputs', async () => {
    const dir = tempDir('resign');
    await buildTinyAutoencoder(dir, 'v1', 7);
    await buildTinyAutoencoder(dir, 'v2', 9);
    // v1's manifest and reference with v2's graph, sha256 updated: only the test inference can tell
    const v1 = join(dir, 'anomaly-aerobic', 'v1');
    const onnx = readFileSync(join(dir, 'anomaly-aerobic', 'v2', 'model.onnx'));
    writeFileSync(join(v1, 'model.onnx'), onnx);
    const manifest = JSON.parse(readFileSync(join(v1, 'manifest.json'), 'utf8')) as { onnx: { sha256: string; bytes: number } };
    manifest.onnx.sha256 = sha256(onnx);
    manifest.onnx.bytes = onnx.byteLength;
    writeFileSync(join(v1, 'manifest.json'), JSON.stringify(manifest));
    await expect(activateModel(dir, 'anomaly-aerobic@v1')).rejects.toMatchObject({ code: 'MODEL_GATE_FAILED' });
  });

  it('keeps the running version and raises an alarm when the daemon is asked for a bad one', async () => {
    const dir = tempDir('daemon-gate');
    await buildTinyAutoencoder(dir, 'v1', 7);
    await buildTinyAutoencoder(dir, 'v2', 8);
    const { ctx } = testContext(dir);
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      writeFileSync(join(dir, 'anomaly-aerobic', 'v1', 'reference.json'), '{}');
      await expect(inference.activate('anomaly-aerobic', 'v1')).rejects.toMatchObject({ code: 'MODEL_GATE_FAILED' });
      expect(inference.models()[0]?.version).toBe('v2');
      const out = await inference.onWindow(plantWindow(T0 + 300_000, { aerobic: aerobicNormal(1) }));
      expect(out.anomalies[0]?.model).toBe('anomaly-aerobic@v2');
    } finally {
      await inference.stop();
    }
  });
});
