import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createPlantPipeline } from '../../src/pipeline.js';
import { ManualClock } from '../control/memory.js';

const T = Date.UTC(2026, 10, 23, 10, 0);

describe('work after a window\'s setpoints (models in shadow, live skill)', () => {
  it('runs once control has acted, never delays it, keeps the windows in order and survives its own failure', async () => {
    const events: string[] = [];
    const logger = createLogger('error', { write: () => undefined });
    const metrics = createMetrics(false);
    const config = loadConfig({ override: { models: { enabled: false } } });
    let calls = 0;
    const pipeline = createPlantPipeline({
      config,
      publisher: { publish: () => undefined },
      tables: { insert: () => undefined },
      inference: { onWindow: (plant) => Promise.resolve({ anomalies: [], untrusted: [], predictions: [], end: plant.end }) },
      alarms: { onWindow: () => undefined },
      control: { onWindow: (plant) => void events.push(`control ${plant.end}`) },
      after: {
        onWindow: async (plant, outcome) => {
          calls += 1;
          expect(outcome.end).toBe(plant.end);
          await new Promise((resolve) => setTimeout(resolve, 150));
          events.push(`after ${plant.end}`);
          if (calls === 1) throw new Error('shadow session gone');
        },
      },
      logger,
      metrics,
      clock: new ManualClock(T),
      onProcessed: (plant) => void events.push(`setpoints ${plant.end}`),
    });
    await pipeline.start(new AbortController().signal);
    pipeline.open();
    const reading = (ts: number) => ({ stage: 'aerobic' as const, signal: 'do', ts, value: 2, quality: 'good' as const, receivedAt: ts });
    // readings over 20 minutes close several windows at once
    for (let i = 0; i <= 20 * 60; i += 30) pipeline.push([reading(T + i * 1000)]);
    await pipeline.idle();
    await pipeline.stop();
    const controls = events.filter((e) => e.startsWith('control'));
    expect(controls.length).toBeGreaterThanOrEqual(3);
    // each window: control, its latency taken (setpoints out), then its after-work, before the next window's control
    const ends = controls.slice(0, 2).map((c) => c.split(' ')[1]);
    expect(events.slice(0, 6)).toEqual(ends.flatMap((end) => [`control ${end}`, `setpoints ${end}`, `after ${end}`]));
    const errors = await metrics.handlerErrors.get();
    expect(errors.values.find((v) => v.labels.component === 'lifecycle')?.value).toBe(1);
    expect(calls).toBe(controls.length);
  });
});
