/**
 * Runs the black-box suite (test/blackbox) at a larger scale and writes docs/reliability.md from what
 * it measured: per part the messages tried, lost and unexplained, and every case's verdict.
 *
 *   npx tsx bench/reliability/run.ts [--scale 3] [--no-report]
 *
 * --scale N: N x 10 kills, N x 3 copies of every corpus kind, N x 2 kills during the MariaDB outage
 * (`npm test` runs the suite at scale 1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const scaleAt = args.indexOf('--scale');
const scale = scaleAt >= 0 ? Number(args[scaleAt + 1]) : 3;
const report = !args.includes('--no-report');
if (!Number.isInteger(scale) || scale < 1) {
  process.stderr.write('reliability: --scale must be a positive integer\n');
  process.exit(2);
}

const figuresFile = join(tmpdir(), `wwtp-edge-reliability-${process.pid}.jsonl`);
const verdictsFile = join(tmpdir(), `wwtp-edge-reliability-${process.pid}.json`);
rmSync(figuresFile, { force: true });
const started = Date.now();
const run = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/blackbox', '--reporter=default', '--reporter=json', `--outputFile.json=${verdictsFile}`], {
  cwd: root,
  env: { ...process.env, BLACKBOX_SCALE: String(scale), BLACKBOX_RELIABILITY_OUT: figuresFile },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const minutes = (Date.now() - started) / 60_000;

type Figures = Record<string, number | string>;
const figures = new Map<string, Figures>();
if (existsSync(figuresFile)) {
  for (const line of readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as Figures & { part: string };
    figures.set(entry.part, entry);
  }
}
interface Assertion {
  ancestorTitles: string[];
  title: string;
  status: string;
}
const verdicts: { file: string; tests: Assertion[] }[] = existsSync(verdictsFile)
  ? (JSON.parse(readFileSync(verdictsFile, 'utf8')) as { testResults: { name: string; assertionResults: Assertion[] }[] }).testResults.map((r) => ({ file: r.name.slice(root.length + 1), tests: r.assertionResults }))
  : [];
rmSync(figuresFile, { force: true });
rmSync(verdictsFile, { force: true });

const n = (v: number | string | undefined): string => (typeof v === 'number' ? v.toLocaleString('en-US') : (v ?? '-'));
const f = (part: string): Figures => figures.get(part) ?? {};
const num = (part: string, key: string): number => Number(f(part)[key] ?? NaN);

const kill9 = f('kill9');
const corpus = f('corpus');
const outage = f('outage');
const budget = f('budget');
const term = (mode: string): Figures => f(`sigterm-${mode}`);
const syncedTables = Object.keys(outage)
  .filter((k) => k.endsWith('Local'))
  .map((k) => k.slice(0, -'Local'.length));
const differing = syncedTables.reduce((sum, t) => sum + num('outage', `${t}Differing`), 0);

const parts = ['kill9', 'corpus', 'outage', 'budget', 'sigterm-embedded', 'sigterm-external'];
const rows: string[][] = [
  [
    'kill -9 loop (`kill9.test.ts`)',
    `${n(kill9['kills'])} kills mid-stream, one MQTT.js client, QoS 1, 1,000 in flight, ${n(kill9['messagesPerSecond'])} messages/s acknowledged`,
    `${n(num('kill9', 'ackedReadings'))} readings + ${n(num('kill9', 'ackedDeadLetters'))} dead letters acknowledged`,
    `${n(kill9['lostReadings'])} readings, ${n(kill9['lostDeadLetters'])} dead letters`,
    `${n(num('kill9', 'lostReadings') + num('kill9', 'lostDeadLetters'))}`,
  ],
  [
    'bad-input corpus (`corpus.test.ts`)',
    `${n(corpus['badKinds'])} kinds of bad input and ${n(num('corpus', 'kinds') - num('corpus', 'badKinds'))} of valid readings, ${3 * scale} copies each, MQTT.js, mosquitto_pub and raw MQTT packets`,
    `${n(corpus['tried'])} messages`,
    '-',
    `${n(corpus['unexplained'])} (${n(corpus['deadLetterRows'])} dead-letter rows = ${n(corpus['deadLetterMetric'])} counted; ${n(corpus['closed'])} closed connections, ${n(corpus['refusedMetric'])} counted, ${n(corpus['refusedLogs'])} logged)`,
  ],
  [
    'MariaDB outage (`outage.test.ts`)',
    `proxy cut, ${n(num('outage', 'kills') - 1)} kills during the outage, 1 during the catch-up`,
    `${n(outage['acked'])} readings acknowledged`,
    `${n(outage['lost'])} missing in MariaDB`,
    `${n(differing)} rows differing or missing over ${syncedTables.length} tables (${syncedTables.map((t) => `${t} ${n(num('outage', `${t}Local`))}/${n(num('outage', `${t}Central`))}`).join(', ')}, local/central)`,
  ],
  [
    'disk budget (`budget.test.ts`)',
    `maxBytes ${n(budget['maxBytes'])}, sync unreachable, alarm flood; files peaked at ${n(budget['maxFiles'])} bytes; ${n(budget['passes'])} shedding passes, ${n(budget['shedWhileFitting'])} of them while the data fit; storage.shedding ${num('budget', 'alarmDelayMs') >= 0 ? `${n(budget['alarmDelayMs'])} ms after the first shed` : 'not raised'}`,
    `${n(budget['acked'])} readings acknowledged`,
    `${n(budget['lost'])} unaccounted (${n(budget['shedReadings'])} shed by the budget, counted in shed_log)`,
    `${n(budget['lost'])}`,
  ],
  ...['embedded', 'external'].map((mode) => [
    `SIGTERM under load, ${mode} broker (\`sigterm.test.ts\`)`,
    `exit code ${n(term(mode)['exitCode'])}, offline seen by both subscribers: ${term(mode)['offlineSeen'] === 1 ? 'yes' : 'no'}`,
    `${n(term(mode)['acked'])} readings acknowledged`,
    `${n(term(mode)['lost'])}`,
    `${n(term(mode)['lost'])}`,
  ]),
];

const measured = rows.filter((_, i) => figures.has(parts[i] ?? ''));
const missingParts = parts.filter((p) => !figures.has(p));
const cases = verdicts
  .flatMap((v) => v.tests.map((t) => ({ file: v.file, name: [...t.ancestorTitles.slice(-1), t.title].join(': '), status: t.status })))
  .filter((c) => !c.file.endsWith('corpus.test.ts') || !c.name.includes(': ') || c.status !== 'passed' || /unexplained|at least/.test(c.name));
const failed = verdicts.flatMap((v) => v.tests).filter((t) => t.status !== 'passed').length;
const total = verdicts.flatMap((v) => v.tests).length;

const doc = `# Reliability

What the black-box suite (\`test/blackbox/\`) measured. The suite builds the daemon as an installation does
(\`tsc -p tsconfig.build.json\` into a temporary copy of the package, never into the checkout), runs it as a child
process and talks to it only through MQTT (MQTT.js, \`mosquitto_pub\`/\`mosquitto_sub\`, raw MQTT 3.1.1 packets),
HTTP (\`/metrics\`), its SQLite file and the machine's MariaDB. \`npm test\` runs it at scale 1 (one to two and a half minutes of
the suite's time on a loaded 2-core machine); this page comes from a longer run:

\`\`\`sh
npx tsx bench/reliability/run.ts --scale ${scale}
\`\`\`

Run of ${new Date().toISOString().slice(0, 10)}: scale ${scale}, ${minutes.toFixed(1)} min, ${total - failed} of ${total} cases passed${run.status === 0 ? '' : ` (vitest exit code ${run.status ?? 'none'})`}; ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}, load average at the end ${loadavg()[0]?.toFixed(1)} (other work shares the cores; rates vary with it).

## Per part: tried, lost, unexplained

| part | how | tried | lost | unexplained |
|---|---|---|---|---|
${measured.map((r) => `| ${r.join(' | ')} |`).join('\n')}
${missingParts.length > 0 ? `\nNo figures from ${missingParts.join(', ')} in this run (the part did not run or failed before measuring).\n` : ''}
"Lost" counts messages the client got a PUBACK for (from the daemon's broker; for Mosquitto, after the restart
through the daemon's persistent session) and whose row is not there. "Unexplained" counts messages that ended
neither as a reading (row with its key and value) nor as a dead letter (a \`deadletters\` row and a message on
\`edge/deadletter\`) nor, where MQTT 3.1.1 requires the server to close the connection (a PUBLISH to a topic with
\`+\` or \`#\`, to an empty topic, or to one with ill-formed UTF-8 or U+0000), as a closed connection counted in
\`wwtp_edge_broker_connections_refused_total\` with its \`connection refused\` log line.

## What each part does

- **kill -9 loop.** One MQTT.js client streams QoS 1 readings, every tenth one out of range (a dead letter whose
  payload carries its timestamp), with up to 1,000 in flight; the daemon is killed with SIGKILL after a varying
  number of acknowledgements and restarted on the same file, ${10 * scale} times. The file is then read: every
  acknowledged reading must be in \`readings\`, every acknowledged dead letter in \`deadletters\`.
- **Bad-input corpus** (\`test/blackbox/corpus.ts\`), from PRODUCT.md sections 4.2 and 5.2 and MQTT 3.1.1: bad
  and truncated JSON, pseudo JSON, hex, decimal commas, units; NaN/Infinity as words, as 1e999 and as JSON strings;
  out of range; wrong types (string, boolean, null, missing value, arrays, unknown keys); timestamps that are no
  date, far in the future, too old, month 13, 24:30, impossible days; bad quality; empty and whitespace payloads;
  binary garbage and invalid UTF-8 (MQTT.js and \`mosquitto_pub\`); a payload over \`maxPayloadBytes\`; unknown
  signal, stage, site and tree; too many levels; daemon output and HMI topics from a PLC account and readings from
  an HMI account; Sparkplug garbage, JSON instead of protobuf,
  unmapped metrics, unknown message types, missing node, mapped metrics out of range, empty NDATA/NBIRTH/DDATA;
  HMI acks and mode changes with bad bodies, unknown loops, bad alarm ids, unknown verbs; exact and conflicting
  duplicates of a stored key; PUBLISH to \`+\`, \`#\`, wildcard and empty topics and to topics with invalid UTF-8, an
  encoded surrogate or U+0000 (raw packets: the connection is closed, counted and logged, the message not acted on). Valid readings (JSON,
  ISO-8601 with offset, QoS 0, from \`mosquitto_pub\`, Sparkplug NBIRTH + NDATA) are mixed in, the order of kinds
  shuffled in every copy. Every kind has topics of its own, so each outcome is counted apart, and each kind is a
  test case of its own with the outcome it must have.
- **MariaDB outage.** Sync to the machine's MariaDB through a TCP proxy (\`test/sync/proxy.ts\`); a PLC streams
  QoS 1 readings over four signals throughout; the proxy resets every connection and closes its port; the daemon
  is killed ${2 * scale} times during the outage, the proxy restored, and the daemon killed once more while MariaDB
  holds only part of the backlog; after the catch-up (and a restart that sends what the shutdown flushed) every
  synced table is compared row by row on its natural key.
- **Disk budget.** \`storage.maxBytes\` 6 MiB checked every second, sync pointed at a closed port (nothing is ever
  synced), one-second windows with five process limits exceeded at once and \`floodLimit\` 2 (an alarm flood), QoS 1
  readings at about 3,000/s until the data outgrow the budget and a few checks past it. The files (database, WAL,
  shared memory) are sampled every 20 ms; the documented margin is 10 % of maxBytes (docs/storage.md).
- **SIGTERM under load.** A PLC streams QoS 1 readings with 500 in flight when SIGTERM comes; \`mosquitto_sub\` and
  MQTT.js watch \`edge/status\`. With the embedded broker and with a Mosquitto of the test's own, set as the README
  tells integrators.
- **MQTT protocol** (\`protocol.test.ts\`): overlapping subscriptions (one copy, never above the granted QoS);
  a PUBLISH declaring 200 MB is refused from its header while its body is still being sent; a keepalive over
  \`maxKeepaliveSec\` refused with "identifier rejected", keepalive 0 taken; 20 connections that never send CONNECT
  and \`maxClients\` connections that go silent (keepalive 0 or 60 s) or stall a publish are closed by the idle
  timeout, after which a PLC gets a slot; a
  zero-length client id with cleanSession 0 refused, with cleanSession 1 accepted; a PUBLISH written a byte at a time
  (its topic split over many reads: a well-formed one acknowledged, an ill-formed one closing the connection); a
  Sparkplug NDEATH delivered as the MQTT will dated no earlier than the node's last data.

## Every case

| file | case | verdict |
|---|---|---|
${cases.map((c) => `| ${c.file.replace('test/blackbox/', '')} | ${c.name.replace(/\|/g, '\\|')} | ${c.status} |`).join('\n')}

The corpus's ${n(corpus['kinds'])} per-kind cases are listed above only when one failed; \`corpus.ts\` names them all.

## Known deviations

- kill -9 takes the embedded broker down with the daemon, so no broker is left to send the daemon's last will:
  an HMI sees \`offline\` only on a clean stop. It detects a killed daemon by the age of the retained health summary
  on \`edge/status\` (its \`ts\`, republished every \`status.intervalSec\`) and by the \`validUntil\` of the setpoints.
`;

if (report) {
  writeFileSync(join(root, 'docs', 'reliability.md'), doc);
  process.stdout.write(`reliability: wrote docs/reliability.md (${total - failed}/${total} cases passed)\n`);
} else {
  process.stdout.write(doc);
}
process.exit(run.status === 0 ? 0 : 1);
