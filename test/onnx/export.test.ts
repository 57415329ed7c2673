import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError, readBundle, writeBundle, type ManifestDraft } from '../../src/onnx/bundle.js';
import { exportDenseBundle, exportVerifiedOnnx } from '../../src/onnx/export.js';
import { manifestSchema } from '../../src/onnx/manifest.js';
import { runOnnx, verifyOnnx, VerificationError } from '../../src/onnx/verify.js';
import { autoencoderSpec, buildDenseNet, regressorSpec } from '../../src/training/models.js';
import { createRng } from '../../src/training/random.js';
import { applyScaler, fitScaler } from '../../src/training/scaler.js';
import { loadTf } from '../../src/training/tf.js';
import { trainDenseNet } from '../../src/training/train.js';

const work = mkdtempSync(join(tmpdir(), 'wwtp-onnx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Correlated plant-like signals in engineering units: flow (m3/d), DO (mg/L), NH4-N (mg/L). */
function plantRows(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const flow = 18000 + 4000 * rng();
    const dO = 1.5 + 1.5 * rng();
    return [flow, dO, 40 - 8 * dO + flow / 2000 + rng(), 7 + 0.3 * rng()];
  });
}

describe('ONNX export', () => {
  it('round-trips a small autoencoder through onnxruntime-node within 1e-4 of TensorFlow.js', async () => {
    const loaded = await loadTf();
    expect(['tfjs', 'tfjs-node']).toContain(loaded.backend);
    const rows = plantRows(200, 1);
    const scaler = fitScaler(rows, { kind: 'standard' });
    const scaled = rows.map((r) => applyScaler(scaler, r));
    const spec = autoencoderSpec(4, [6, 2], 'tanh');
    const model = buildDenseNet(loaded.tf, spec, 7);
    const progress: number[] = [];
    const result = await trainDenseNet(loaded.tf, model, scaled, scaled, { epochs: 30, seed: 7 }, (p) => progress.push(p.loss));
    expect(progress.length).toBe(result.epochsRun);
    expect(result.trainLoss).toBeLessThan(1);
    const heldOut = plantRows(50, 2);
    const bundle = await exportDenseBundle(join(work, 'models', 'ae', '1'), {
      loaded,
      model,
      spec,
      inputScaler: scaler,
      verificationRows: heldOut,
      manifest: {
        name: 'ae',
        version: '1',
        kind: 'autoencoder',
        inputs: [
          { stage: 'influent', signal: 'flow', feature: 'mean' },
          { stage: 'aerobic', signal: 'do', feature: 'mean' },
          { stage: 'aerobic', signal: 'nh4', feature: 'mean' },
          { stage: 'aerobic', signal: 'ph', feature: 'mean' },
        ],
        threshold: 3,
        metrics: { heldOutMse: 0.1 },
        training: { source: 'generated', rows: 200, seed: 7, split: { mode: 'random', trainRows: result.trainRows, validationRows: result.validationRows }, epochs: result.epochsRun, layers: [...spec.layers] },
      },
    });
    expect(bundle.manifest.verification.maxAbsDiff).toBeLessThan(1e-4);
    const back = await readBundle(bundle.dir);
    expect(back.manifest.onnx.sha256).toBe(bundle.manifest.onnx.sha256);
    const outputs = await runOnnx(back.onnx, heldOut.slice(0, 3));
    expect(outputs['score']?.length).toBe(3);
    expect(outputs['squared_error']?.length).toBe(12);
    // score is the row sum of the contributors
    const contributions = outputs['squared_error'] ?? new Float32Array();
    expect(outputs['score']?.[0]).toBeCloseTo((contributions[0] ?? 0) + (contributions[1] ?? 0) + (contributions[2] ?? 0) + (contributions[3] ?? 0), 4);
    // an exported model in raw units flags a physically odd row more than normal rows
    const odd = await runOnnx(back.onnx, [[20000, 2.5, 60, 7.1]]);
    expect(odd['score']?.[0]).toBeGreaterThan(Math.max(...(outputs['score'] ?? [])));
  });

  it('round-trips a regressor with relu and sigmoid layers and output scaling', async () => {
    const loaded = await loadTf();
    const rows = plantRows(150, 3);
    const x = rows.map((r) => [r[0] ?? 0, r[1] ?? 0]);
    const y = rows.map((r) => [r[2] ?? 0]);
    const xs = fitScaler(x, { kind: 'robust' });
    const ys = fitScaler(y, { kind: 'standard' });
    const spec = { inputSize: 2, layers: [{ units: 8, activation: 'relu' as const }, { units: 4, activation: 'sigmoid' as const }, { units: 1, activation: 'linear' as const }] };
    expect(regressorSpec(2, [8], 1).layers).toHaveLength(2);
    const model = buildDenseNet(loaded.tf, spec, 3);
    await trainDenseNet(loaded.tf, model, x.map((r) => applyScaler(xs, r)), y.map((r) => applyScaler(ys, r)), { epochs: 20, seed: 3 });
    const heldOut = plantRows(40, 4).map((r) => [r[0] ?? 0, r[1] ?? 0]);
    const exported = await exportVerifiedOnnx({ loaded, model, spec, inputScaler: xs, outputScaler: ys, verificationRows: heldOut, name: 'nh4', graphKind: 'predictor' });
    expect(exported.maxAbsDiff).toBeLessThan(1e-4);
    const out = await runOnnx(exported.onnx, heldOut.slice(0, 2));
    expect(out['prediction']?.length).toBe(2);
    expect(Number.isFinite(out['prediction']?.[0])).toBe(true);
    // a gate with an impossible reference must refuse
    await expect(verifyOnnx(exported.onnx, heldOut.slice(0, 2), { prediction: new Float32Array([0, 0]) })).rejects.toBeInstanceOf(VerificationError);
  });
});

describe('bundle', () => {
  function draft(): ManifestDraft {
    return {
      name: 'detector',
      version: '2024.1',
      kind: 'detector',
      inputs: ['Pressure', 'Flow'],
      graphInput: 'input',
      outputs: [{ name: 'score', dims: ['batch'] }],
      scaler: { kind: 'standard', center: [1, 2], scale: [1, 1] },
      threshold: 1.5,
      metrics: {},
      training: { source: 'x.csv', rows: 10, seed: 1, split: { mode: 'tail', trainRows: 8, validationRows: 2 }, epochs: 3, layers: [{ units: 2, activation: 'linear' }] },
      createdAt: new Date().toISOString(),
      tfjsBackend: 'tfjs',
      verification: { maxAbsDiff: 0, tolerance: 1e-4, rows: 2, runtime: 'onnxruntime-node' },
      opset: 13,
    };
  }

  it('rejects a tampered model.onnx by its sha256', async () => {
    const dir = join(work, 'tamper');
    await writeBundle(dir, draft(), new Uint8Array([1, 2, 3, 4]));
    expect((await readBundle(dir)).onnx).toEqual(new Uint8Array([1, 2, 3, 4]));
    writeFileSync(join(dir, 'model.onnx'), new Uint8Array([1, 2, 3, 5]));
    await expect(readBundle(dir)).rejects.toMatchObject({ code: 'BUNDLE_SHA_MISMATCH' });
  });

  it('refuses to overwrite a version unless asked, and replaces atomically when asked', async () => {
    const dir = join(work, 'replace');
    await writeBundle(dir, draft(), new Uint8Array([1]));
    await expect(writeBundle(dir, draft(), new Uint8Array([2]))).rejects.toBeInstanceOf(BundleError);
    await writeBundle(dir, draft(), new Uint8Array([2]), { replace: true });
    expect((await readBundle(dir)).onnx).toEqual(new Uint8Array([2]));
  });

  it('validates the manifest schema', async () => {
    const dir = join(work, 'schema');
    await writeBundle(dir, draft(), new Uint8Array([9]));
    const manifest: unknown = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifestSchema.safeParse(manifest).success).toBe(true);
    expect(manifestSchema.safeParse({ ...(manifest as object), kind: 'classifier' }).success).toBe(false);
    expect(manifestSchema.safeParse({ ...(manifest as object), inputs: [] }).success).toBe(false);
    await expect(writeBundle(join(work, 'bad'), { ...draft(), name: 'no spaces allowed' }, new Uint8Array([1]))).rejects.toMatchObject({ code: 'BUNDLE_MANIFEST_INVALID' });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...(manifest as object), threshold: -1 }));
    await expect(readBundle(dir)).rejects.toMatchObject({ code: 'BUNDLE_MANIFEST_INVALID' });
  });
});
