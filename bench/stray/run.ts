/**
 * One stray reading into a plant whose event time runs behind the wall clock, measured from the
 * outside: `wwtp-edge run` as a child process (embedded broker), `wwtp-edge sim` replaying the
 * recent past at --speed into it, and one `mosquitto_pub -m 2.1` (a bare number: received now) a
 * third of the way through. Figures from /metrics, the daemon's log and its setpoint topics.
 *
 *   npx tsx bench/stray/run.ts [--speed 600] [--days 0.5] [--before DIR] [--no-report]
 *
 * --before DIR measures another checkout's bin/wwtp-edge.js first (e.g. the commit before a fix,
 * `git archive COMMIT | tar -x -C DIR` with node_modules linked in) for a comparison.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { writeReportSection } from '../../eval/lib/report.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
};
const here = dirname(fileURLToPath(import.meta.url));
const SPEED = Number(opt('speed', '600'));
const DAYS = Number(opt('days', '0.5'));
const BEFORE = opt('before', '');

async function measure(root: string): Promise<string> {
  const site = `straybench${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'wwtp-stray-bench-'));
  const bin = join(root, 'bin', 'wwtp-edge.js');

  const daemon = spawn(process.execPath, [bin, 'run'], {
    cwd: root,
    env: {
      ...process.env,
      WWTP_EDGE_SITE: site,
      WWTP_EDGE_STORAGE__PATH: join(dir, 'edge.sqlite'),
      WWTP_EDGE_BROKER__EMBEDDED__PORT: '0',
      WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null',
      WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true',
      WWTP_EDGE_HTTP__PORT: '0',
      WWTP_EDGE_LOG__LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let alarmLines = 0;
  let strayAt = Infinity;
  const ports = await new Promise<{ mqtt: number; http: number }>((resolve, reject) => {
    daemon.once('exit', (code) => reject(new Error(`daemon exited ${code}`)));
    createInterface({ input: daemon.stdout }).on('line', (line) => {
      if (line.includes('"wwtp-edge running"')) resolve(JSON.parse(line) as { mqtt: number; http: number });
      if (Date.now() >= strayAt && /"msg":"alarm /.test(line)) alarmLines += 1;
    });
  });
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) sum += Number(line.split(' ').pop());
    return sum;
  };

  const url = `mqtt://127.0.0.1:${ports.mqtt}`;
  const watcher = await mqtt.connectAsync(url, { clientId: `stray-bench-${process.pid}` });
  const modes = new Map<string, number>();
  watcher.on('message', (_topic, payload) => {
    if (Date.now() < strayAt) return;
    const mode = (JSON.parse(payload.toString()) as { mode?: string }).mode ?? 'none';
    modes.set(mode, (modes.get(mode) ?? 0) + 1);
  });
  await watcher.subscribeAsync(`wwtp/${site}/+/setpoint/#`, { qos: 1 });
  const sim = spawn(process.execPath, [bin, 'sim', '--broker', url, '--site', site, '--days', String(DAYS), '--speed', String(SPEED), '--seed', '7'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const simDone = new Promise<number | null>((resolve) => sim.once('exit', resolve));
  const wallSec = (DAYS * 86_400) / SPEED;
  await new Promise((r) => setTimeout(r, 3000 + (wallSec * 1000) / 3));
  const rssBefore = (await metric('wwtp_edge_rss_bytes')) / 1024 ** 2;
  const lateBefore = await metric('wwtp_edge_readings_late_total');
  strayAt = Date.now();
  spawnSync('mosquitto_pub', ['-p', String(ports.mqtt), '-t', `wwtp/${site}/aerobic/do`, '-m', '2.1', '-q', '1']);
  const simCode = await simDone;
  await new Promise((r) => setTimeout(r, 2000));
  const late = (await metric('wwtp_edge_readings_late_total')) - lateBefore;
  const ahead = await metric('wwtp_edge_readings_ahead_total');
  const rssAfter = (await metric('wwtp_edge_rss_bytes')) / 1024 ** 2;
  await watcher.endAsync();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  rmSync(dir, { recursive: true, force: true });

  const modeText = [...modes.entries()].map(([m, n]) => `${n} ${m}`).join(', ') || 'none';
  return `sim ${SPEED}x ${DAYS} d (sim exit ${simCode}), one stray reading: ${late} late readings after it, ${ahead} held ahead, ${alarmLines} alarm log lines after it, setpoints after it: ${modeText}, RSS ${Math.round(rssBefore)} -> ${Math.round(rssAfter)} MB`;
}

const before = BEFORE ? await measure(BEFORE) : undefined;
if (before) console.log(`before: ${before}`);
const line = await measure(join(here, '..', '..'));
console.log(line);
if (!args.includes('--no-report')) {
  writeReportSection(
    'docs/benchmarks.md',
    'stray',
    `## One stray reading into a plant behind the wall clock (\`npx tsx bench/stray/run.ts --speed ${SPEED} --days ${DAYS}\`)

\`wwtp-edge run\` (child process, embedded broker, default config and models), \`wwtp-edge sim\` replaying the last ${DAYS} plant days at ${SPEED}x into it
(its event time hours behind the wall clock), and a third of the way through one \`mosquitto_pub -t wwtp/SITE/aerobic/do -m 2.1\`
(a bare number: received now). Counted from the stray on: late readings (\`wwtp_edge_readings_late_total\`), readings held ahead
(\`wwtp_edge_readings_ahead_total\`), alarm transitions in the log, setpoints by mode; RSS from \`wwtp_edge_rss_bytes\`.

${line}

${before ? `Before the plant's event time was guarded (\`--before\` a checkout of commit 97858b3): ${before}\n\n` : ''}Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1) ?? 'n/a'} at the end.`,
  );
}
process.exit(0);
