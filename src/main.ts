import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import type { CliIo, ExitCode } from './cli/io.js';

/**
 * The entry: the only file that touches the process (signals, exit codes, stdio, environment).
 * Commands live in src/cli and return an exit code.
 */
const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
const controller = new AbortController();
const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: controller.signal };
let exiting = false;

function onSignal(name: NodeJS.Signals): void {
  if (controller.signal.aborted) {
    if (name === 'SIGINT') process.exit(1);
    return;
  }
  controller.abort(new Error(name));
  // SIGTERM must end the process within 5 s even if a component hangs while draining.
  setTimeout(() => {
    process.stderr.write('wwtp-edge: shutdown took longer than 4.5 s, exiting\n');
    process.exit(1);
  }, 4_500).unref();
}
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('unhandledRejection', (error) => {
  process.stderr.write(`wwtp-edge: unhandled rejection: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
});

// A reader that closed its end of stdout or stderr (`wwtp-edge sync status | head`, a journald
// restart): a command has nothing more to say and ends quietly; the daemon keeps running without
// that sink rather than dying over its log.
let daemon = false;
function onBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
  if (!daemon) process.exit(process.exitCode ?? 0);
}
process.stdout.on('error', onBrokenPipe);
process.stderr.on('error', onBrokenPipe);

function finish(code: ExitCode): void {
  if (exiting) return;
  exiting = true;
  process.exitCode = code;
  // Let stdout drain, then leave even if a stray handle (socket, timer) stays open.
  setTimeout(() => process.exit(code), 200).unref();
}

async function runCommand(load: () => Promise<ExitCode>): Promise<void> {
  try {
    finish(await load());
  } catch (error) {
    const exitCode = (error as { exitCode?: unknown }).exitCode === 2 ? 2 : 1;
    // a config error lists each problem on its own line (source: path: message)
    const lines = (error as { lines?: unknown }).lines;
    if (Array.isArray(lines)) for (const line of lines) process.stderr.write(`wwtp-edge: ${String(line)}\n`);
    else process.stderr.write(`wwtp-edge: ${error instanceof Error ? error.message : String(error)}\n`);
    finish(exitCode);
  }
}

const program = new Command('wwtp-edge')
  .description('Edge daemon for wastewater treatment plants')
  .version(version)
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) })
  .showSuggestionAfterError();

program
  .command('run')
  .description('run the daemon')
  .option('--config <file>', 'config file overlaid on config/default.yaml')
  .action((opts: { config?: string }) =>
    runCommand(async () => {
      daemon = true;
      return (await import('./cli/run.js')).runCommand({ configFile: opts.config, version }, io);
    }),
  );

program
  .command('demo')
  .description('daemon + embedded broker + plant twin on one plant clock; prints the broker port and the HMI login (hmi / demo-hmi)')
  .option('--speed <n>', 'plant seconds per wall second, for the daemon and the twin alike (1: wall time)', '60')
  .option('--config <file>', 'config file overlaid on config/default.yaml')
  .option('--seed <n>', 'twin random seed', '1')
  .action((opts: { speed: string; config?: string; seed: string }) =>
    runCommand(async () => {
      daemon = true;
      return (await import('./cli/demo.js')).demoCommand({ speed: opts.speed, seed: opts.seed, configFile: opts.config, version }, io);
    }),
  );

program
  .command('sim')
  .description('the plant twin, publishing readings as PLCs would and obeying setpoints')
  .requiredOption('--broker <url>', 'MQTT broker URL, e.g. mqtt://127.0.0.1:1883')
  .option('--influent <name>', 'dry | rain | storm | generated | FILE (the named BSM1 weathers fall back to the generated influent when the files are not installed)', 'dry')
  .option('--speed <n>', 'plant seconds per wall second; the run ends at the wall clock\'s now', '60')
  .option('--scenario <file>', 'fault scenario YAML')
  .option('--seed <n>', 'random seed', '1')
  .option('--days <d>', 'plant days to simulate', '14')
  .option('--site <site>', 'site (topic prefix wwtp/{site})', 'demo')
  .option('--lockstep', 'advance one control interval only after the daemon answered')
  .option('--truth <file>', 'write the scenario\'s fault ground truth (JSONL) to this file')
  .option('--username <user>', 'MQTT username')
  .option('--password <password>', 'MQTT password')
  .action((opts: Record<string, string | boolean | undefined>) =>
    runCommand(async () => (await import('./cli/sim.js')).simCommand(opts, io)),
  );

program
  .command('train')
  .description('train a model with TensorFlow.js and export an ONNX bundle')
  .argument('<model>', 'autoencoder | predictors')
  .option('--data <file>', 'readings CSV in long form: header ts,stage,signal,value (ts epoch ms or ISO-8601), one reading a row (default: the plant twin\'s BSM1 runs)')
  .option('--from-store', 'learn from the plant\'s own history in the daemon\'s store (storage.path, or --db): the stages and signals it holds, the most recent third of the span held out')
  .option('--config <file>', 'config file (for --from-store and signals)')
  .option('--db <file>', 'with --from-store: the SQLite store to read (default: storage.path of the config)')
  .option('--since <iso>', 'with --from-store: readings from this time on (ISO-8601)')
  .option('--until <iso>', 'with --from-store: readings before this time (ISO-8601)')
  .option('--held-out-days <d>', 'with --from-store: hold out at most the most recent D days (default: the most recent third of the span)')
  .option('--out <dir>', 'output folder', 'models')
  .action((model: string, opts: { data?: string; fromStore?: boolean; out: string; config?: string; db?: string; since?: string; until?: string; heldOutDays?: string }) =>
    runCommand(async () => (await import('./cli/train.js')).trainCommand(model, opts, io)),
  );

const models = program.command('models').description('model registry: list the bundles, activate a version, run a candidate in shadow, roll back');
const modelsDirHelp = 'models folder (default: ./models when it exists, else the package\'s models folder)';
models
  .command('list')
  .description('list every model bundle with its kind, its evaluation figures and which version is active (*)')
  .option('--dir <dir>', modelsDirHelp)
  .action((opts: { dir?: string }) => runCommand(async () => (await import('./cli/models.js')).modelsCommand('list', undefined, opts, io)));
models
  .command('activate')
  .description('activate a bundle version after checking it (the daemon picks it up within models.registryPollSec); --from-store: first the quality gate against the active version on the store\'s most recent block')
  .argument('<name@version>')
  .option('--dir <dir>', modelsDirHelp)
  .option('--from-store', 'judge the candidate on the store first (models.lifecycle.gate); refused: exit 1, the active version stays')
  .option('--since <iso>', 'start of the block (default: the last models.lifecycle.gate.heldOutDays days of the store)')
  .option('--db <file>', 'the store file (default: storage.path)')
  .option('--config <file>', 'config overlay (storage.path, site, signals, windows, models.lifecycle.gate)')
  .action((ref: string, opts: { dir?: string; fromStore?: boolean; since?: string; db?: string; config?: string }) => runCommand(async () => (await import('./cli/models.js')).modelsCommand('activate', ref, opts, io)));
models
  .command('rollback')
  .description('go back to the version that was active before')
  .argument('<name>')
  .option('--dir <dir>', modelsDirHelp)
  .action((name: string, opts: { dir?: string }) => runCommand(async () => (await import('./cli/models.js')).modelsCommand('rollback', name, opts, io)));
models
  .command('shadow')
  .description('run a candidate (in <dir>/candidates or <dir>) in shadow beside the active version on the running daemon: outputs stored, not published; promoted after models.lifecycle.shadow.hours of plant time when its live skill is at least the active one\'s, else rejected')
  .argument('<name@version>')
  .option('--dir <dir>', modelsDirHelp)
  .option('--from-store', 'first the quality gate against the active version on the store (models.lifecycle.gate); refused: exit 1')
  .option('--since <iso>', 'start of the gate\'s block (default: the last models.lifecycle.gate.heldOutDays days of the store)')
  .option('--db <file>', 'the store file (default: storage.path)')
  .option('--config <file>', 'config overlay (storage.path, site, signals, windows, models.lifecycle.gate)')
  .action((ref: string, opts: { dir?: string; fromStore?: boolean; since?: string; db?: string; config?: string }) => runCommand(async () => (await import('./cli/models.js')).modelsCommand('shadow', ref, opts, io)));

models
  .command('evaluate')
  .description('judge bundles on a later block of the plant\'s stored history: R2, MAPE, MAE, MSE and MSE skill over persistence per predictor target and horizon; flag rate and, against alarm verdicts, event precision, recall and delay per detector')
  .argument('<ref>', 'NAME@VERSION (in --dir), a bundle folder, or a models folder (every model\'s newest version)')
  .option('--from-store', 'read the readings of the daemon\'s store (storage.path, or --db)')
  .option('--since <iso>', 'start of the block to judge on (ISO-8601)')
  .option('--until <iso>', 'end of the block (ISO-8601; default: the newest reading)')
  .option('--json', 'JSON for machines instead of the table')
  .option('--config <file>', 'config file (windows and signals, storage.path)')
  .option('--db <file>', 'the SQLite store to read (default: storage.path of the config)')
  .option('--dir <dir>', modelsDirHelp)
  .action((ref: string, opts: { fromStore?: boolean; since?: string; until?: string; json?: boolean; config?: string; db?: string; dir?: string }) =>
    runCommand(async () => (await import('./cli/models.js')).modelsEvaluateCommand(ref, opts, io)));

const anomaly = program.command('anomaly').description('offline anomaly detection on any CSV');
anomaly
  .command('fit')
  .description('fit the offline anomaly detector on a CSV (all rows, or the first N) and write its bundle')
  .requiredOption('--csv <file>', 'input CSV')
  .requiredOption('--out <dir>', 'bundle folder to write')
  .option('--columns <list>', 'comma-separated columns (default: every numeric column but labels)')
  .option('--rows <n>', 'train on the first N rows (default: the whole file)')
  .option('--keep-drifting', 'keep columns whose level trends through the training rows (the drift guard leaves them out)')
  .action((opts: { csv: string; out: string; columns?: string; rows?: string; keepDrifting?: boolean }) =>
    runCommand(async () => (await import('./cli/anomaly.js')).anomalyFitCommand(opts, io)),
  );
anomaly
  .command('score')
  .description('score every row of a CSV with a fitted bundle; CSV of scores on stdout')
  .requiredOption('--csv <file>', 'input CSV')
  .requiredOption('--model <dir>', 'bundle folder made by anomaly fit')
  .action((opts: { csv: string; model: string }) => runCommand(async () => (await import('./cli/anomaly.js')).anomalyScoreCommand(opts, io)));

program
  .command('replay')
  .description('publish a CSV as readings')
  .requiredOption('--csv <file>', 'CSV with a time column and signal columns')
  .requiredOption('--map <file>', "map file: the CSV's tags onto stage/signal, and the plant's own topics (docs/mapping.md)")
  .requiredOption('--broker <url>', 'MQTT broker URL')
  .option('--speed <n>', 'plant seconds per wall second (0 = as fast as possible)', '0')
  .option('--site <site>', 'site (topic prefix wwtp/{site})')
  .option('--config <file>', "site config, for the signals' units when the map has no tags.mqtt")
  .option('--username <user>', 'MQTT username')
  .option('--password <password>', 'MQTT password')
  .action((opts: Record<string, string | undefined>) => runCommand(async () => (await import('./cli/replay.js')).replayCommand(opts, io)));

program
  .command('import')
  .description('load a historian export into the store through the tag map and the same checks as live readings')
  .requiredOption('--csv <file>', 'historian export (CSV or TSV, separator detected)')
  .requiredOption('--map <file>', 'map file: tags.csv.time and tags.points (docs/mapping.md)')
  .option('--config <file>', 'site config overlaid on config/default.yaml (signals, storage.path)')
  .action((opts: { csv: string; map: string; config?: string }) => runCommand(async () => (await import('./cli/import.js')).importCommand(opts, io)));

program
  .command('check-config')
  .description('check a config as run would (default.yaml, FILE, WWTP_EDGE_* variables): every error on its own line with its source and path')
  .argument('<file>')
  .action((file: string) => runCommand(async () => (await import('./cli/check-config.js')).checkConfigCommand(file, io)));

program
  .command('hash-password')
  .description('print the scrypt hash of a password for broker.embedded.users; without the argument (which shell history keeps) the password is asked for without echo on a terminal, or read from the first line of stdin')
  .argument('[password]', 'the password (at least 8 characters); omit it to be prompted or to pipe it in')
  .action((password: string | undefined) => runCommand(async () => (await import('./cli/hash-password.js')).hashPasswordCommand(password, io)));

program
  .command('report')
  .description("the regulator's daily report from the store: effluent averages against the limits, loads, removal, hours above limits, alarms, data completeness")
  .requiredOption('--day <YYYY-MM-DD>', 'the UTC day')
  .addOption(new Option('--format <format>', 'csv, html (printable, with plots) or json').choices(['csv', 'html', 'json']).default('csv'))
  .option('--config <file>', 'site config file (its storage.path is read)')
  .action((opts: { day: string; format: string; config?: string }) => runCommand(async () => (await import('./cli/report.js')).reportCommand(opts, io)));

const sync = program.command('sync').description('store-and-forward to the central MariaDB');
sync
  .command('status')
  .description('whether the central MariaDB is reachable, rows pending and lag per table')
  .option('--config <file>', 'config file')
  .action((opts: { config?: string }) => runCommand(async () => (await import('./cli/sync.js')).syncCommand('status', opts, io)));
sync
  .command('now')
  .description('catch up every table now (refused when sync.enabled is false)')
  .option('--config <file>', 'config file')
  .action((opts: { config?: string }) => runCommand(async () => (await import('./cli/sync.js')).syncCommand('now', opts, io)));

program.addOption(new Option('--quiet').hideHelp());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // help and version print and exit 0; every usage error is one line, exit 2
    finish(error.exitCode === 0 ? 0 : 2);
  } else {
    process.stderr.write(`wwtp-edge: ${error instanceof Error ? error.message : String(error)}\n`);
    finish(1);
  }
}
