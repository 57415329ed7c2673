import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { binPath, startDaemon, tempDir, LOCAL_DAEMON_ENV } from '../helpers/daemon.js';

/**
 * A plant whose event time runs behind the wall clock (here `wwtp-edge sim` replaying the last hours
 * at 2000x) and one stray bare-number reading published with mosquitto_pub, received "now": the
 * plant's windows must not jump to it. Without the guard every later reading of the replay is late,
 * the loops go stale and fall back; with it the stray is held, counted, and the loops stay in auto.
 */
const site = `stray${process.pid}`;

function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) sum += Number(line.split(' ').pop());
  return sum;
}

describe('a stray reading stamped far ahead of the plant', () => {
  it('is held out of the windows: later readings are not late and the loops keep publishing auto setpoints', async () => {
    const dir = tempDir('wwtp-stray-');
    const daemon = await startDaemon({
      WWTP_EDGE_SITE: site,
      WWTP_EDGE_STORAGE__PATH: join(dir, 'edge.sqlite'),
      ...LOCAL_DAEMON_ENV,
    });
    try {
      const url = `mqtt://127.0.0.1:${daemon.mqttPort}`;
      const watcher = await mqtt.connectAsync(url, { clientId: `stray-watch-${process.pid}` });
      let strayAt = Infinity;
      const after = { auto: 0, fallback: 0, alarms: 0 };
      let replaying = (): void => undefined;
      const replayed = new Promise<void>((resolve) => (replaying = resolve));
      let readings = 0;
      watcher.on('message', (topic, payload) => {
        if (!topic.includes('/setpoint/') && !topic.includes('/alarms/')) {
          readings += 1;
          if (readings === 500) replaying();
          return;
        }
        if (Date.now() < strayAt + 2000) return;
        if (topic.includes('/alarms/')) after.alarms += 1;
        else if ((JSON.parse(payload.toString()) as { mode?: string }).mode === 'auto') after.auto += 1;
        else after.fallback += 1;
      });
      await watcher.subscribeAsync([`wwtp/${site}/+/setpoint/#`, `wwtp/${site}/alarms/#`, `wwtp/${site}/aerobic/+`], { qos: 1 });
      const sim = spawn(process.execPath, [binPath, 'sim', '--broker', url, '--site', site, '--days', '0.25', '--speed', '2000', '--seed', '5'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let simErr = '';
      sim.stderr.on('data', (d: Buffer) => (simErr += d.toString()));
      const simDone = new Promise<number | null>((resolve) => sim.once('exit', resolve));
      // Once the replay runs, one reading "received now": hours ahead of the plant.
      await replayed;
      await new Promise((r) => setTimeout(r, 2000));
      strayAt = Date.now();
      const pub = spawnSync('mosquitto_pub', ['-p', String(daemon.mqttPort), '-t', `wwtp/${site}/aerobic/do`, '-m', '2.1', '-q', '1']);
      expect(pub.status, pub.stderr.toString()).toBe(0);
      expect(await simDone, simErr).toBe(0);
      await new Promise((r) => setTimeout(r, 1000));
      const metrics = await (await fetch(`http://127.0.0.1:${daemon.httpPort}/metrics`)).text();
      await watcher.endAsync();
      const late = metric(metrics, 'wwtp_edge_readings_late_total');
      const ahead = metric(metrics, 'wwtp_edge_readings_ahead_total');
      console.log(`stray reading: late ${late}, held ahead ${ahead}, after it: ${after.auto} auto and ${after.fallback} other setpoints, ${after.alarms} alarm messages`);
      expect(late).toBeLessThan(50);
      expect(after.auto).toBeGreaterThan(0);
      expect(after.fallback).toBe(0);
      expect(ahead).toBe(1);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited();
    }
  }, 90_000);
});
