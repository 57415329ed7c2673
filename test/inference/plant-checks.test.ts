import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createInference } from '../../src/inference/index.js';
import { features, plantWindow, tempDir, testContext } from './helpers.js';

const T0 = Date.UTC(2025, 0, 1);

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
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
});
