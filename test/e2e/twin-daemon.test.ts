import mqtt from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { createTwin } from '../../src/sim/index.js';
import { tempDir } from '../helpers/daemon.js';

/**
 * The plant twin drives the daemon over a real MQTT broker (the daemon's embedded one on a free port),
 * in lockstep: the daemon's setpoints come back to the twin, and a fault injected at a known plant time
 * must give anomaly messages after it and none before.
 */
const DAY = 86_400_000;

describe('twin -> broker -> daemon', () => {
  it('answers every control interval with setpoints and reports an anomaly only once the blower fails', async () => {
    const dir = tempDir('wwtp-e2e-');
    const site = 'e2e';
    const config = loadConfig({
      override: {
        site,
        broker: { mode: 'embedded', embedded: { port: 0, wsPort: null, allowAnonymous: true } },
        http: { enabled: false },
        storage: { path: join(dir, 'edge.sqlite') },
        ingest: { maxAgeDays: 36500, maxFutureSkewSec: 3650 * 86_400 },
      },
    });
    const runtime = createRuntime(config, { logger: silentLogger() });
    const controller = new AbortController();
    await runtime.start(controller.signal);
    const url = `mqtt://127.0.0.1:${runtime.ports().mqtt}`;
    const hmi = await mqtt.connectAsync(url, { clientId: 'e2e-hmi' });
    const anomalies: { ts: number; stage: string }[] = [];
    const setpoints: { loop: string; value: number; ts: number }[] = [];
    hmi.on('message', (topic, payload) => {
      const parts = topic.split('/');
      const body = JSON.parse(payload.toString()) as { ts: number; isAnomaly?: boolean; value?: number };
      if (parts[2] === 'anomaly' && body.isAnomaly) anomalies.push({ ts: body.ts, stage: parts[3] ?? '' });
      if (parts[3] === 'setpoint') setpoints.push({ loop: parts[4] ?? '', value: body.value ?? NaN, ts: body.ts });
    });
    await hmi.subscribeAsync([`wwtp/${site}/anomaly/+`, `wwtp/${site}/+/setpoint/+`], { qos: 1 });

    const epochMs = Date.UTC(2026, 0, 1);
    const faultStartDays = 0.75;
    const twin = createTwin({
      broker: url,
      site,
      plant: 'full',
      influent: 'dry',
      seed: 4242,
      days: 1.1,
      speed: 1_000_000,
      lockstep: true,
      epochMs,
      signals: config.signals,
      faults: [{ kind: 'blower_failure', stage: 'aerobic', start: faultStartDays, end: 1.1 }],
    });
    await twin.start(controller.signal);
    await twin.finished();
    await runtime.idle();
    await new Promise((r) => setTimeout(r, 300));
    await twin.stop();
    await hmi.endAsync();
    await runtime.stop();

    const faultTs = epochMs + faultStartDays * DAY;
    expect(twin.stats.published).toBeGreaterThan(50_000);
    expect(twin.stats.lockstepTimeouts).toBe(0);
    expect(setpoints.length).toBeGreaterThan(100);
    for (const loop of config.control.loops) {
      for (const sp of setpoints.filter((s) => s.loop === loop.id)) {
        expect(sp.value).toBeGreaterThanOrEqual(loop.min);
        expect(sp.value).toBeLessThanOrEqual(loop.max);
      }
    }
    expect(anomalies.filter((a) => a.ts <= faultTs)).toEqual([]);
    expect(anomalies.filter((a) => a.ts > faultTs).length).toBeGreaterThan(0);
  }, 240_000);
});
