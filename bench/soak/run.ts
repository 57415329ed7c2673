/**
 * Memory soak of the daemon as deployed: the compiled daemon (`npm run build`, then `wwtp-edge run`, as
 * systemd and the arm64 image run it) in its own process, 4 publisher connections at QoS 1 in another
 * process at a steady rate, the daemon's RSS read from /proc every 10 s.
 *   npm run build && npx tsx bench/soak/run.ts [--minutes M] [--rate R]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot, writeReportSection } from '../../eval/lib/report.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MINUTES = arg('minutes', 60);
const RATE = arg('rate', 10_000);
if (!existsSync(join(repoRoot, 'dist', 'main.js'))) throw new Error('run `npm run build` first: the soak measures the compiled daemon');
const dir = mkdtempSync(join(tmpdir(), 'wwtp-soak-'));
const daemon = spawn(process.execPath, [join(repoRoot, 'bin', 'wwtp-edge.js'), 'run'], {
  cwd: repoRoot,
  env: {
    ...process.env,
    WWTP_EDGE_SITE: 'bench',
    WWTP_EDGE_BROKER__EMBEDDED__PORT: '0',
    WWTP_EDGE_BROKER__EMBEDDED__WS_PORT: 'null',
    WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true',
    WWTP_EDGE_BROKER__EMBEDDED__LIMITS__MAX_PUBLISHES_PER_SECOND: '1000000',
    WWTP_EDGE_HTTP__PORT: '0',
    WWTP_EDGE_STORAGE__PATH: join(dir, 'soak.sqlite'),
    WWTP_EDGE_INGEST__MAX_AGE_DAYS: '36500',
    WWTP_EDGE_LOG__LEVEL: 'info',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise<number>((resolve, reject) => {
  daemon.once('exit', (code) => reject(new Error(`daemon exited ${code}`)));
  createInterface({ input: daemon.stdout }).on('line', (line) => {
    if (line.includes('"wwtp-edge running"')) resolve((JSON.parse(line) as { mqtt: number }).mqtt);
  });
});
const rssMb = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const count = RATE * MINUTES * 60;
const publisher = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/ingest/publisher.ts'), `mqtt://127.0.0.1:${port}`, '1', '4', String(count), '500', 'bench', String(RATE)], {
  cwd: repoRoot,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const samples: { min: number; rssMb: number }[] = [];
const t0 = Date.now();
const timer = setInterval(() => {
  samples.push({ min: (Date.now() - t0) / 60_000, rssMb: rssMb() });
  const last = samples.at(-1);
  if (last) process.stderr.write(`soak ${last.min.toFixed(1)} min: daemon RSS ${last.rssMb.toFixed(0)} MB\n`);
}, 10_000);
let sent = '';
publisher.stdout.on('data', (d: Buffer) => (sent += d.toString()));
await new Promise<void>((resolve) => publisher.once('exit', () => resolve()));
clearInterval(timer);
const minutes = (Date.now() - t0) / 60_000;
daemon.kill('SIGTERM');
const exitCode = await new Promise<number | null>((resolve) => daemon.once('exit', resolve));
rmSync(dir, { recursive: true, force: true });

const warm = Math.min(5, MINUTES / 4);
const steady = samples.filter((s) => s.min >= warm);
const rss = steady.map((s) => s.rssMb);
const n = steady.length;
const mx = steady.reduce((a, s) => a + s.min, 0) / n;
const my = rss.reduce((a, v) => a + v, 0) / n;
const slope = (steady.reduce((a, s) => a + (s.min - mx) * (s.rssMb - my), 0) / steady.reduce((a, s) => a + (s.min - mx) ** 2, 0)) * 60;
const firstTen = rss.slice(0, 30);
const lastTen = rss.slice(-30);
const mean = (xs: number[]): number => xs.reduce((a, v) => a + v, 0) / Math.max(1, xs.length);
const line = `soak ${minutes.toFixed(1)} min at ${RATE}/s (${sent.trim()}): daemon RSS steady mean first 5 min ${mean(firstTen).toFixed(0)} MB, last 5 min ${mean(lastTen).toFixed(0)} MB, max ${Math.max(...rss).toFixed(0)} MB, slope ${slope.toFixed(1)} MB/h, SIGTERM exit ${exitCode}`;
console.log(line);
writeReportSection(
  'docs/benchmarks.md',
  'soak',
  `## Memory soak: daemon RSS at ${RATE.toLocaleString('en')} readings/s

Command: \`npm run build && npx tsx bench/soak/run.ts --minutes ${MINUTES} --rate ${RATE}\`. The compiled daemon (\`wwtp-edge run\`,
as systemd and the image run it) in its own process with every shipped model, windows, alarms and control;
4 publisher connections at QoS 1 in another process; the daemon's RSS from /proc every 10 s, the first
${warm} min left out as warm-up.

| duration (min) | RSS mean, first 5 min of steady state (MB) | RSS mean, last 5 min (MB) | RSS max (MB) | RSS slope (MB/h) | goal |
|---|---|---|---|---|---|
| ${minutes.toFixed(1)} | ${mean(firstTen).toFixed(0)} | ${mean(lastTen).toFixed(0)} | ${Math.max(...rss).toFixed(0)} | ${slope.toFixed(1)} | < 250 MB, flat |

Publisher: ${sent.trim()}. Measured ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
);
process.exit(0);
