import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config/load.js';
import { scanBundles } from '../../src/inference/registry-file.js';
import { loadVerifiedModel } from '../../src/inference/session.js';
import { PREDICTOR_SPECS } from '../../src/models/specs.js';

const modelsDir = resolve(repoRoot, 'models');

describe('shipped bundles', () => {
  it('every bundle in models/ passes the activation gate in onnxruntime-node and carries metrics and provenance', async () => {
    const bundles = await scanBundles(modelsDir);
    const names = new Set(bundles.map((b) => b.name));
    for (const stage of ['influent', 'primary', 'anaerobic', 'anoxic', 'aerobic', 'secondary', 'membrane', 'phosphorus', 'effluent']) expect(names).toContain(`anomaly-${stage}`);
    for (const spec of PREDICTOR_SPECS) expect(names).toContain(`predict-${spec.stage}`);
    for (const b of bundles) {
      const model = await loadVerifiedModel(b.dir, { intraOpThreads: 1 });
      try {
        const m = model.manifest;
        expect(m.onnx.bytes).toBeLessThan(64 * 1024);
        // Trained on the plant the daemon runs, under every control regime it sees.
        expect(m.training.source).toMatch(/plant twin \(full nine-stage plant\)/);
        expect(m.training.source).toMatch(/control default\/supervisory\/operated/);
        expect(m.training.rows).toBeGreaterThan(1000);
        expect(Number.isInteger(m.training.seed)).toBe(true);
        expect(m.verification.maxAbsDiff).toBeLessThan(1e-4);
        if (m.kind === 'autoencoder') {
          expect(m.threshold).toBeGreaterThan(0);
          // the detector family's scoring, recorded: what the daemon and anomaly score apply
          expect(m.postprocess?.residualScale).toHaveLength(m.inputs.length);
          expect(m.threshold).toBeCloseTo((m.metrics['trainScoreMax'] ?? Number.NaN) * (m.postprocess?.thresholdMargin ?? Number.NaN), 9);
          expect(m.metrics['heldOutFalseAlarmRate']).toBeLessThan(0.01);
        } else {
          // Every target and horizon judged on the held-out block; published only where it met the bar.
          const eligibility = m.eligibility;
          expect(eligibility?.bar).toBe(0.3);
          expect(Object.keys(eligibility?.targets ?? {}).sort()).toEqual(model.targets.map((t) => `${t.stage}.${t.signal}@+${t.horizonMin}m`).sort());
          for (const t of model.targets) {
            const key = `${t.stage}.${t.signal}@+${t.horizonMin}m`;
            const skill = m.metrics[`mseSkill.${key}`] ?? Number.NaN;
            expect(eligibility?.targets[key]?.mseSkill).toBeCloseTo(skill, 9);
            const bar = [60, 240].map((h) => m.metrics[`mseSkill.${t.stage}.${t.signal}@+${h}m`] ?? Number.NaN);
            expect(eligibility?.targets[key]?.eligible, key).toBe(bar.every((b) => b >= 0.3) && skill > 0);
          }
        }
      } finally {
        await model.session.release();
      }
    }
  });
});
