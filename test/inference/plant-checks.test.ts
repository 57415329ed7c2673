import { describe, expect, it } from 'vitest';
import { createControl } from '../../src/control/index.js';
import { createInference } from '../../src/inference/index.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import { features, manualClock, plantWindow, tempDir, testContext } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]): Logger {
  return createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
}

describe('plant-wide sensor checks in the daemon\'s inference', () => {
  it('raises the effluent nitrogen plausibility alarm when NH4-N + NO3-N exceed TN', async () => {
    const { ctx, rec } = testContext(tempDir('checks'));
    const inference = createInference(ctx);
    await inference.start(new AbortController().signal);
    try {
      const ok = await inference.onWindow(plantWindow(T0 + 300_000, { effluent: { nh4_n: features(2.5), no3_n: features(12.1), tn: features(16.3) } }));
      expect(ok.sensorFlags).toEqual([]);
      const drifted = await inference.onWindow(plantWindow(T0 + 600_000, { effluent: { nh4_n: features(7.5), no3_n: features(12.1), tn: features(16.3) } }));
      expect(drifted.sensorFlags).toEqual([expect.objectContaining({ stage: 'effluent', signal: 'tn', check: 'balance' })]);
      expect(drifted.anomalies).toEqual([expect.objectContaining({ stage: 'effluent', isAnomaly: true, model: 'sensor-checks' })]);
      expect(rec.raised.map((a) => a.id)).toContain('sensor.effluent.tn.balance');
    } finally {
      await inference.stop();
    }
  });

  it('leaves out, with one warning each, the checks that name signals this plant does not have', async () => {
    const lines: Record<string, unknown>[] = [];
    const { ctx } = testContext(tempDir('checks'), undefined, (c) => ({ ...c, signals: c.signals.filter((s) => !(s.stage === 'effluent' && s.id === 'tn') && !(s.stage === 'primary' && s.id === 'sludge_flow')) }));
    const inference = createInference({ ...ctx, logger: capturingLogger(lines) });
    await inference.start(new AbortController().signal);
    try {
      const warned = lines.filter((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('not checked'));
      expect(warned.map((l) => [l['check'], l['id'], l['missing']])).toEqual([
        ['flow balance', 'plant', ['primary.sludge_flow']],
        ['species sum', 'effluent_nitrogen', ['effluent.tn']],
      ]);
      const out = await inference.onWindow(plantWindow(T0 + 300_000, { effluent: { nh4_n: features(7.5), no3_n: features(12.1), tn: features(16.3) } }));
      expect(out.sensorFlags).toEqual([]);
    } finally {
      await inference.stop();
    }
  });

  it('a membrane level shift is published as an anomaly but leaves the backwash loop in auto; a doubtful measurement does not', async () => {
    const { ctx } = testContext(tempDir('checks'));
    const inference = createInference(ctx);
    const control = createControl({ ...ctx, config: ctx.config.control, clock: manualClock() });
    await inference.start(new AbortController().signal);
    await control.start();
    try {
      // Peak TMP per peak flux 0.65 for 2 h, then 0.92 (the membrane fouls), the flux steady.
      const membrane = (k: number, ratio: number) => {
        const flux = 20 * (1 + 0.02 * Math.sin(k * 1.7));
        const tmp = ratio * flux;
        return { tmp: features(0.8 * tmp, { max: tmp, min: 0.6 * tmp, slope: 8 }), flux: features(flux, { max: flux, min: 0.97 * flux }), backwash: features(0, { min: 0, max: 0 }) };
      };
      for (let k = 1; k <= 30; k += 1) await inference.onWindow(plantWindow(T0 + k * 300_000, { membrane: membrane(k, 0.65) }));
      let shifted;
      for (let k = 31; k <= 36 && !shifted?.sensorFlags.length; k += 1) shifted = await inference.onWindow(plantWindow(T0 + k * 300_000, { membrane: membrane(k, 0.92) }));
      expect(shifted?.sensorFlags.map((f) => f.check)).toEqual(['shift']);
      expect(shifted?.anomalies).toEqual([expect.objectContaining({ stage: 'membrane', isAnomaly: true })]);
      expect(shifted?.untrusted).toEqual([]);
      const plant = plantWindow(T0 + 37 * 300_000, { membrane: membrane(37, 0.92) });
      const [auto] = control.onWindow(plant, { anomalies: shifted?.untrusted ?? [] }).filter((r) => r.loop === 'backwash_interval');
      expect(auto?.mode).toBe('auto');
      // The same window with its rows as published would have sent the loop to its fallback.
      const [fallback] = control.onWindow(plantWindow(T0 + 38 * 300_000, { membrane: membrane(38, 0.92) }), { anomalies: shifted?.anomalies ?? [] }).filter((r) => r.loop === 'backwash_interval');
      expect(fallback?.mode).toBe('fallback');

      const doubtful = await inference.onWindow(plantWindow(T0 + 39 * 300_000, { effluent: { nh4_n: features(7.5), no3_n: features(12.1), tn: features(16.3) } }));
      expect(doubtful.untrusted).toEqual([expect.objectContaining({ stage: 'effluent', isAnomaly: true })]);
    } finally {
      await control.stop();
      await inference.stop();
    }
  });
});
