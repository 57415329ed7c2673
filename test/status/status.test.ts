import { describe, expect, it } from 'vitest';
import { createStatusReporter } from '../../src/status/status.js';
import { ManualClock, RecordingPublisher } from '../control/memory.js';

describe('edge/status', () => {
  it('says "online" first: summaries asked for before it (models activating at boot) are not published', async () => {
    const publisher = new RecordingPublisher('s1');
    const clock = new ManualClock(1_796_241_171_000);
    const status = createStatusReporter({ publisher, clock, intervalSec: 30, version: '1', readiness: () => ({ broker: true }), details: () => ({}), uptimeMs: () => 4_200 });
    for (let i = 0; i < 13; i++) status.publishNow({ modelActivation: { name: `m${i}` } });
    expect(publisher.sent).toEqual([]);
    await status.start(new AbortController().signal);
    expect(publisher.sent.map((s) => s.payload)[0]).toBe('online');
    const summary = JSON.parse(publisher.sent[1]!.payload as string) as { status: string; uptimeSec: number; ts: number };
    expect(summary).toMatchObject({ status: 'online', uptimeSec: 4, ts: 1_796_241_171_000 });
    status.publishNow({ modelActivation: { name: 'later' } });
    expect(publisher.sent).toHaveLength(3);
  });

  it('counts uptime from the process start by default, not from 1970', async () => {
    const publisher = new RecordingPublisher('s1');
    const status = createStatusReporter({ publisher, clock: new ManualClock(Date.now()), intervalSec: 30, version: '1', readiness: () => ({}), details: () => ({}) });
    await status.start(new AbortController().signal);
    const summary = JSON.parse(publisher.sent[1]!.payload as string) as { uptimeSec: number };
    expect(summary.uptimeSec).toBeGreaterThanOrEqual(0);
    expect(summary.uptimeSec).toBeLessThan(3_600);
    await status.stop();
  });
});
