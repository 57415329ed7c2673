import { readFileSync } from 'node:fs';
import { runRetrainJob, type RetrainJob } from './retrain-job.js';

/**
 * The training child's entry (`node [--max-old-space-size=N] retrain-worker.js JOB.json`), started by the
 * daemon (src/lifecycle/retrain.ts): the job's progress on stderr, its result as one JSON line on stdout.
 */
const file = process.argv[2];
try {
  if (!file) throw new Error('no job file given');
  const job = JSON.parse(readFileSync(file, 'utf8')) as RetrainJob;
  const result = await runRetrainJob(job, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (error) {
  process.stderr.write(`retraining failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
