import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/daemon.js';

const run = promisify(execFile);
const DEMO_HMI = { username: 'hmi', password: 'demo-hmi' };

interface Setpoint { value: number; ts: number; mode: string; reason: string; validUntil: number }
interface Seen { loop: string; sp: Setpoint; wall: number }

/** A clone of the repository with nothing beside it: the tracked files and node_modules, no ../shared. */
function cloneAlone(): string {
  const root = join(tempDir('wwtp-demo-alone-'), 'wwtp-edge');
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter((f) => f.length > 0);
  for (const file of files) {
    const to = join(root, file);
    mkdirSync(dirname(to), { recursive: true });
    try {
      cpSync(join(repoRoot, file), to);
    } catch {
      // a tracked file deleted in the working tree
    }
  }
  symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(root, 'node_modules'));
  return root;
}

function startDemo(root: string): Promise<{ child: ChildProcess; port: number; http: string; stderr: () => string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('WWTP_EDGE_')) env[k] = v;
  // Started from another directory: the demo still finds its models and its data/demo.sqlite.
  const child = spawn(process.execPath, [join(root, 'bin', 'wwtp-edge.js'), 'demo'], { cwd: dirname(root), env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start: ${stderr}`)), 120_000);
    child.once('exit', (code) => reject(new Error(`demo exited ${code}: ${stderr}`)));
    const poll = setInterval(() => {
      const m = /HMI login: .*mosquitto_pub -p (\d+)/.exec(stderr);
      if (!m) return;
      clearInterval(poll);
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, port: Number(m[1]), http: /\(HTTP (http:\/\/[^/]+)\/readyz\)/.exec(stderr)?.[1] ?? '', stderr: () => stderr });
    }, 100);
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

function watch(client: MqttClient, seen: Seen[], deadLetters: { reason: string; topic: string }[], alarms: Map<string, string>): void {
  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    if (parts[3] === 'setpoint') seen.push({ loop: parts[4]!, sp: JSON.parse(payload.toString()) as Setpoint, wall: Date.now() });
    else if (topic.endsWith('/edge/deadletter')) deadLetters.push(JSON.parse(payload.toString()) as { reason: string; topic: string });
    else if (parts[2] === 'alarms' && payload.length > 0) alarms.set(parts[3]!, (JSON.parse(payload.toString()) as { state: string }).state);
  });
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const pub = (port: number, topic: string, message: string, login?: typeof DEMO_HMI): Promise<unknown> =>
  run('mosquitto_pub', ['-p', String(port), '-q', '1', ...(login ? ['-u', login.username, '-P', login.password] : []), '-t', topic, '-m', message]);

/** The freshest auto setpoints: every one still valid by the wall clock when it arrived. */
function autoAfter(seen: readonly Seen[], since: number): Seen[] {
  return seen.filter((s) => s.wall > since && s.sp.mode === 'auto' && !/holding/.test(s.sp.reason));
}

describe('the demo from a clone of the repository alone, through the README', () => {
  const children: ChildProcess[] = [];
  const clients: MqttClient[] = [];
  let root: string | undefined;
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (root) rmSync(dirname(root), { recursive: true, force: true });
  });

  it('keeps publishing auto setpoints valid by the wall clock through the README examples and a restart on the same file', async () => {
    root = cloneAlone();
    const first = await startDemo(root);
    children.push(first.child);
    expect(first.stderr()).toMatch(/generated influent \(BSM1 files not installed\)/);
    const seen: Seen[] = [];
    const deadLetters: { reason: string; topic: string }[] = [];
    const alarms = new Map<string, string>();
    const viewer = await mqtt.connectAsync(`mqtt://127.0.0.1:${first.port}`, { username: DEMO_HMI.username, password: DEMO_HMI.password });
    clients.push(viewer);
    watch(viewer, seen, deadLetters, alarms);
    await viewer.subscribeAsync(['wwtp/demo/+/setpoint/+', 'wwtp/demo/edge/deadletter', 'wwtp/demo/alarms/+'], { qos: 1 });
    const t0 = Date.now();
    await until('the first auto setpoints', () => autoAfter(seen, t0).length >= 6, 90_000);
    // Models found and active: /readyz answers 200.
    expect((await fetch(`${first.http}/readyz`)).status).toBe(200);

    // The README's examples: a bare number ("received now"), JSON with an ISO time, an HMI ack, a loop to manual and back.
    await pub(first.port, 'wwtp/demo/aerobic/do', '2.1');
    await pub(first.port, 'wwtp/demo/aerobic/nh4_n', JSON.stringify({ value: 1.8, ts: new Date().toISOString(), quality: 'good' }));
    const alarmId = [...alarms].find(([, state]) => state === 'active_unack')?.[0] ?? 'fallback.do';
    const ackable = alarms.get(alarmId) === 'active_unack';
    await pub(first.port, `wwtp/demo/hmi/alarms/${alarmId}/ack`, JSON.stringify({ by: 'readme', comment: 'seen' }), DEMO_HMI);
    const manualAt = Date.now();
    await pub(first.port, 'wwtp/demo/hmi/loops/do/mode', JSON.stringify({ mode: 'manual', value: 2, by: 'readme' }), DEMO_HMI);
    await until('the manual DO setpoint', () => seen.some((s) => s.wall >= manualAt && s.loop === 'do' && s.sp.mode === 'manual'));
    await pub(first.port, 'wwtp/demo/hmi/loops/do/mode', JSON.stringify({ mode: 'auto', by: 'readme' }), DEMO_HMI);
    const strayEnd = Date.now();

    // Within a window or two after the stray input every loop is back to auto, valid by the wall clock.
    await until('auto setpoints of every loop after the examples', () => new Set(autoAfter(seen, strayEnd).map((s) => s.loop)).size === 6, 60_000);
    await until('more auto DO setpoints', () => autoAfter(seen, strayEnd).filter((s) => s.loop === 'do').length >= 3, 60_000);
    for (const s of autoAfter(seen, strayEnd)) expect(s.sp.validUntil, JSON.stringify(s)).toBeGreaterThan(s.wall);
    expect(deadLetters.filter((d) => d.reason === 'not_authorized')).toEqual([]);
    expect(deadLetters.filter((d) => d.reason === 'bad_timestamp')).toEqual([]);
    // An alarm that was active and unacknowledged is acknowledged by the HMI login.
    if (ackable) await until(`alarm ${alarmId} acknowledged`, () => alarms.get(alarmId) !== 'active_unack', 30_000);
    const lastTs = Math.max(...seen.map((s) => s.sp.ts));
    expect(await stop(first.child)).toBe(0);
    await viewer.endAsync(true);

    // The same data/demo.sqlite again: plant time continues after it, setpoints keep coming.
    const second = await startDemo(root);
    children.push(second.child);
    expect(second.stderr()).toMatch(/after the stored history/);
    const again: Seen[] = [];
    const viewer2 = await mqtt.connectAsync(`mqtt://127.0.0.1:${second.port}`, { username: DEMO_HMI.username, password: DEMO_HMI.password });
    clients.push(viewer2);
    watch(viewer2, again, deadLetters, alarms);
    await viewer2.subscribeAsync(['wwtp/demo/+/setpoint/+', 'wwtp/demo/edge/deadletter'], { qos: 1 });
    const t1 = Date.now();
    await until('auto setpoints of every loop after the restart', () => new Set(autoAfter(again, t1).filter((s) => s.sp.ts > lastTs).map((s) => s.loop)).size === 6, 120_000);
    await until('more auto DO setpoints after the restart', () => autoAfter(again, t1).filter((s) => s.loop === 'do' && s.sp.ts > lastTs).length >= 3, 60_000);
    for (const s of autoAfter(again, t1).filter((x) => x.sp.ts > lastTs)) expect(s.sp.validUntil, JSON.stringify(s)).toBeGreaterThan(s.wall);
    expect(deadLetters.filter((d) => d.reason === 'bad_timestamp')).toEqual([]);
    expect(await stop(second.child)).toBe(0);
    expect(second.stderr()).not.toMatch(/unhandled rejection/);
  }, 420_000);
});
