import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { binPath, repoRoot, startDaemon, tempDir } from '../helpers/daemon.js';
import { NO_MEMBRANE_PLANT } from './no-membrane.js';

/** `check-config` and `run` as a user runs them: child processes, site files, WWTP_EDGE_* variables. */

const dir = tempDir('wwtp-config-cli-');
const site = (name: string, lines: string[]): string => {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
};
/** Valid on its own: loopback broker open to local clients, ports picked by the system, a temp store. */
const base = (name: string, embedded = ''): string[] => [
  `site: cfg${process.pid}${name.replace(/[^a-z0-9]/gi, '')}`,
  'broker:',
  `  embedded: { port: 0, wsPort: null, allowAnonymous: true${embedded} }`,
  'http: { port: 0 }',
  `storage: { path: ${join(dir, `${name}.sqlite`)} }`,
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without this shell's WWTP_EDGE_* variables, plus `env`. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WWTP_EDGE_') || k === 'WWTP_EDGE_DATA') out[k] = v;
  return { ...out, ...env };
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [binPath, ...args], { cwd: repoRoot, env: cleanEnv(env), timeout: 30_000 }, (_error, stdout, stderr) => {
      resolve({ code: child.exitCode, stdout, stderr });
    });
  });
}

async function waitFor(ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

/** check-config and run on the same file and variables: both exit 2 with the same error lines. */
async function bothRefuse(file: string, env: Record<string, string> = {}): Promise<string[]> {
  const [check, run] = await Promise.all([cli(['check-config', file], env), cli(['run', '--config', file], env)]);
  expect(check.code).toBe(2);
  expect(run.code).toBe(2);
  const checkLines = lines(check.stderr).filter((l) => !l.endsWith('error(s)'));
  const runLines = lines(run.stderr)
    .filter((l) => !l.endsWith('error(s)'))
    .map((l) => l.replace(/^wwtp-edge: /, ''));
  expect(runLines).toEqual(checkLines);
  expect(run.stderr).not.toContain('; ');
  expect(lines(run.stderr).at(-1)).toBe(`wwtp-edge: invalid config: ${checkLines.length} error(s)`);
  return checkLines;
}

describe('check-config and run make one check', () => {
  it('refuse a MariaDB url that is not a URL, or is http', async () => {
    const notUrl = site('not-url.yaml', [...base('nu'), 'sync:', '  enabled: true', '  mariadb: { url: "not a url" }']);
    expect(await bothRefuse(notUrl)).toEqual([`${notUrl}: sync.mariadb.url: "not a url" is not a URL, expected e.g. mariadb://user@host:3306/database`]);
    const http = site('http-url.yaml', [...base('hu'), 'sync:', '  enabled: true', '  mariadb: { url: "http://127.0.0.1:3306/test" }']);
    expect(await bothRefuse(http)).toEqual([`${http}: sync.mariadb.url: scheme http is not one the daemon speaks (mariadb, mysql)`]);
  });

  it('refuse a TLS cert file that does not exist, naming its key', async () => {
    const tls = site('tls.yaml', base('tls', `, tls: { port: 0, certFile: ${join(dir, 'missing-cert.pem')}, keyFile: ${join(dir, 'missing-key.pem')} }`));
    expect(await bothRefuse(tls)).toEqual([
      `${tls}: broker.embedded.tls.certFile: file ${join(dir, 'missing-cert.pem')} does not exist`,
      `${tls}: broker.embedded.tls.keyFile: file ${join(dir, 'missing-key.pem')} does not exist`,
    ]);
  });

  it('apply WWTP_EDGE_* variables alike and blame the variable', async () => {
    const ok = site('env.yaml', base('env'));
    expect((await cli(['check-config', ok])).code).toBe(0);
    expect(await bothRefuse(ok, { WWTP_EDGE_HTTP__PORT: 'notaport' })).toEqual(['WWTP_EDGE_HTTP__PORT: http.port: Invalid input: expected number, received string']);
  });

  it('refuse an embedded broker no client can log in to', async () => {
    const closed = site('closed.yaml', ['broker:', '  embedded: { allowAnonymous: false }', `storage: { path: ${join(dir, 'closed.sqlite')} }`]);
    const errors = await bothRefuse(closed);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/broker\.embedded\.users: no users and allowAnonymous is false: no client can connect/);
  });

  it('list every error at once: a bad stage, a bad feedback, a limit on a signal that does not exist', async () => {
    const bad = site('all-at-once.yaml', [
      ...base('all'),
      'signals:',
      '  - { stage: aeration, id: do2, unit: mg/L, min: 0, max: 12, periodSec: 60 }',
      'control:',
      '  loops:',
      '    - { id: was_flow, feedback: secondary.nope }',
      'alarms:',
      '  limits:',
      '    - { stage: membrane, signal: tmpp, high: 60 }',
    ]);
    const errors = await bothRefuse(bad);
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^${bad}: signals\\[aeration/do2\\]\\.stage: `)),
      `${bad}: control.loops[was_flow].feedback: loop was_flow: feedback secondary.nope is not a configured signal`,
      `${bad}: alarms.limits[membrane/tmpp].signal: limit on membrane/tmpp: no such signal`,
    ]);
  });
});

describe('config/site.example.yaml', () => {
  it('passes check-config and starts a daemon that a local PLC can publish to', async () => {
    const example = join(repoRoot, 'config', 'site.example.yaml');
    const check = await cli(['check-config', example]);
    expect(check.stderr).toBe('');
    expect(check.stdout).toBe(`${example}: valid\n`);
    const dbPath = join(dir, 'example.sqlite');
    const daemon = await startDaemon(
      { WWTP_EDGE_STORAGE__PATH: dbPath, WWTP_EDGE_BROKER__EMBEDDED__PORT: '0', WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null', WWTP_EDGE_HTTP__PORT: '0' },
      ['run', '--config', example],
    );
    const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { clientId: `example-plc-${process.pid}` });
    await plc.publishAsync('wwtp/plant1/aerobic/do', JSON.stringify({ value: 2.1, ts: Date.now() - 1000 }), { qos: 1 });
    await plc.endAsync();
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare("SELECT value FROM readings WHERE stage = 'aerobic' AND signal = 'do'").all()).toEqual([{ value: 2.1 }]);
    db.close();
  }, 90_000);
});

describe('a plant without membrane and phosphorus stages, with a fourth aeration zone', () => {
  it('runs from a short site file: the new signal is stored, the removed stage is an unknown signal, its models are skipped with a warning, the other loops publish', async () => {
    const dbPath = join(dir, 'no-membrane.sqlite');
    const file = site('no-membrane.yaml', [
      'site: nomembrane',
      'broker:',
      '  embedded: { port: 0, wsPort: null, allowAnonymous: true }',
      'http: { port: 0 }',
      `storage: { path: ${dbPath} }`,
      ...NO_MEMBRANE_PLANT,
    ]);
    const check = await cli(['check-config', file]);
    expect(check.stdout).toBe(`${file}: valid\n`);
    expect(check.stderr).toBe('');
    const daemon = await startDaemon({}, ['run', '--config', file]);
    const plc = await mqtt.connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { clientId: `nomembrane-plc-${process.pid}` });
    // 20 minutes of every configured signal, once a minute, so that windows close and every component runs
    const { signals } = loadConfig({ file });
    const minute = 60_000;
    const start = Math.floor(Date.now() / minute) * minute - 20 * minute;
    for (let t = start; t < start + 20 * minute; t += minute) {
      await Promise.all(signals.map((s) => plc.publishAsync(`wwtp/nomembrane/${s.stage}/${s.id}`, JSON.stringify({ value: (s.min + s.max) / 2, ts: t }), { qos: 1 })));
    }
    await plc.publishAsync('wwtp/nomembrane/membrane/tmp', JSON.stringify({ value: 20, ts: start }), { qos: 1 });
    await plc.endAsync();
    await waitFor(() => daemon.logs.some((l) => l.includes('model reads signals that are not configured') && l.includes('anomaly-membrane')));
    daemon.child.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);
    expect(daemon.logs.filter((l) => l.includes('"level":50') || l.includes('"level":60'))).toEqual([]);
    const db = new Database(dbPath, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM readings WHERE stage = 'aerobic' AND signal = 'do_zone4'").get()).toEqual({ n: 20 });
    expect(db.prepare('SELECT reason FROM deadletters').all()).toEqual([{ reason: 'unknown_signal' }]);
    const loops = db.prepare('SELECT DISTINCT loop FROM setpoints ORDER BY loop').all().map((r) => (r as { loop: string }).loop);
    expect(loops).toEqual(['carbon_dose', 'do', 'internal_recycle', 'was_flow']);
    db.close();
  }, 90_000);
});
