import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { createPlantPipeline } from '../../src/pipeline.js';
import { ManualClock } from '../control/memory.js';

const T = Date.UTC(2026, 10, 23, 10, 0);

describe('readings the windows leave out', () => {
  it('late readings count as wwtp_edge_readings_late_total (not as a queue overflow) and are summarized at info once a minute', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const metrics = createMetrics(false);
    const clock = new ManualClock(T);
    const config = loadConfig({ override: { models: { enabled: false } } });
    const pipeline = createPlantPipeline({
      config,
      publisher: { publish: () => undefined },
      tables: { insert: () => undefined },
      inference: { onWindow: () => Promise.resolve({ anomalies: [], untrusted: [], predictions: [] }) },
      alarms: { onWindow: () => undefined },
      control: { onWindow: () => undefined },
      logger,
      metrics,
      clock,
    });
    await pipeline.start(new AbortController().signal);
    pipeline.open();
    const reading = (ts: number, value = 2) => ({ stage: 'aerobic' as const, signal: 'do', ts, value, quality: 'good' as const, receivedAt: ts });
    // Event time reaches an hour later: every window before it closed; readings from the start are late.
    pipeline.push([reading(T), reading(T + 3_600_000)]);
    for (let i = 0; i < 500; i++) pipeline.push([reading(T + i * 1000)]);
    pipeline.push([{ ...reading(T + 3_700_000), signal: 'nope' }]);
    await pipeline.idle();
    const late = await metrics.readingsLate.get();
    expect(late.values.find((v) => v.labels.stage === 'aerobic')?.value).toBe(500);
    const notWindowed = await metrics.readingsNotWindowed.get();
    expect(notWindowed.values.find((v) => v.labels.reason === 'unknown_signal')?.value).toBe(1);
    const overflow = await metrics.queueOverflow.get();
    expect(overflow.values.reduce((s, v) => s + v.value, 0)).toBe(0);
    expect(lines.filter((l) => String(l.msg).startsWith('late readings'))).toHaveLength(0);
    clock.advance(60_000);
    const summaries = lines.filter((l) => String(l.msg).startsWith('late readings'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ level: 30, readings: 500, bySignal: { 'aerobic/do': 500 } });
    expect(lines.filter((l) => String(l.msg).startsWith('readings dropped'))[0]).toMatchObject({ readings: 1 });
    clock.advance(60_000);
    expect(lines.filter((l) => String(l.msg).startsWith('late readings'))).toHaveLength(1);
    await pipeline.stop();
  });
});
