import mqtt from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createRuntime } from '../../src/runtime.js';
import { createTwin } from '../../src/sim/index.js';
import type { Fault } from '../../src/sim/faults.js';
import { tempDir } from '../helpers/daemon.js';

/**
 * The plant twin drives the daemon over a real MQTT broker (the daemon's embedded one on a free port),
 * in lockstep: the daemon's setpoints come back to the twin, and a fault injected at a known plant time
 * must give anomaly messages after it and none before.
 */
const DAY = 86_400_000;
const EPOCH_MS = Date.UTC(2026, 0, 1);
const FAULT_START_DAYS = 0.75;
const RUN_DAYS = 1.1;

interface Seen {
  readonly config: ReturnType<typeof loadConfig>;
  readonly twin: ReturnType<typeof createTwin>;
  readonly anomalies: { ts: number; stage: string }[];
  readonly setpoints: { loop: string; value: number; ts: number }[];
  readonly alarms: { id: string; state: string; raisedAt: number }[];
}

/** One twin run (full plant, dry weather) against a whole daemon, with what an HMI subscribed to sees. */
async function runAgainstDaemon(fault: Fault): Promise<Seen> {
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
  const seen = { anomalies: [] as Seen['anomalies'], setpoints: [] as Seen['setpoints'], alarms: [] as Seen['alarms'] };
  hmi.on('message', (topic, payload) => {
    const parts = topic.split('/');
    const body = JSON.parse(payload.toString()) as { ts: number; isAnomaly?: boolean; value?: number; id?: string; state?: string; raisedAt?: number };
    if (parts[2] === 'anomaly' && body.isAnomaly) seen.anomalies.push({ ts: body.ts, stage: parts[3] ?? '' });
    if (parts[3] === 'setpoint') seen.setpoints.push({ loop: parts[4] ?? '', value: body.value ?? NaN, ts: body.ts });
    if (parts[2] === 'alarms') seen.alarms.push({ id: body.id ?? '', state: body.state ?? '', raisedAt: body.raisedAt ?? NaN });
  });
  await hmi.subscribeAsync([`wwtp/${site}/anomaly/+`, `wwtp/${site}/+/setpoint/+`, `wwtp/${site}/alarms/+`], { qos: 1 });
  const twin = createTwin({
    broker: url,
    site,
    plant: 'full',
    influent: 'dry',
    seed: 4242,
    days: RUN_DAYS,
    speed: 1_000_000,
    lockstep: true,
    epochMs: EPOCH_MS,
    signals: config.signals,
    faults: [fault],
  });
  await twin.start(controller.signal);
  await twin.finished();
  await runtime.idle();
  await new Promise((r) => setTimeout(r, 300));
  await twin.stop();
  await hmi.endAsync();
  await runtime.stop();
  return { config, twin, ...seen };
}

describe('twin -> broker -> daemon', () => {
  it('answers every control interval with setpoints and reports an anomaly only once the blower fails', async () => {
    const { config, twin, anomalies, setpoints } = await runAgainstDaemon({ kind: 'blower_failure', stage: 'aerobic', start: FAULT_START_DAYS, end: RUN_DAYS });
    const faultTs = EPOCH_MS + FAULT_START_DAYS * DAY;
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

  it('raises the DO loop-deviation alarm once the published DO carries a bias, from the setpoints it published itself', async () => {
    const { anomalies, alarms } = await runAgainstDaemon({ kind: 'sensor_bias', stage: 'aerobic', signal: 'do', start: FAULT_START_DAYS, end: RUN_DAYS, magnitude: 1.2 });
    const faultTs = EPOCH_MS + FAULT_START_DAYS * DAY;
    const deviation = alarms.filter((a) => a.id === 'sensor.aerobic.do.deviation');
    expect(deviation.filter((a) => a.raisedAt <= faultTs)).toEqual([]);
    expect(deviation.some((a) => a.state === 'active_unack' && a.raisedAt > faultTs)).toBe(true);
    expect(anomalies.filter((a) => a.ts <= faultTs)).toEqual([]);
  }, 240_000);
});
