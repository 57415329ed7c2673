import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultDataDir } from '../../src/sim/simulate.js';

/**
 * Tests that read the shared data sets (BSM1 reference files, SKAB, the real plants' records) from
 * `WWTP_EDGE_DATA` or `../shared/data`. A clone without them skips those tests and says which and why,
 * once per file; with CI=true a missing data set fails the file instead.
 */
export interface DataNeed {
  /** True when every path is there: run the tests. */
  readonly present: boolean;
  /** For a describe title: '' when present, else ' [skipped: ...]'. */
  readonly note: string;
  /** Absolute path of a file under the data folder. */
  path(relative: string): string;
}

const dir = defaultDataDir();
const warned = new Set<string>();

export function needData(what: string, ...relative: string[]): DataNeed {
  const missing = relative.filter((p) => !existsSync(resolve(dir, p)));
  const present = missing.length === 0;
  const reason = `${what} not found: ${missing.map((p) => resolve(dir, p)).join(', ')} (set WWTP_EDGE_DATA to the shared data folder)`;
  if (!present) {
    if (process.env['CI'] === 'true') throw new Error(`CI=true: ${reason}`);
    if (!warned.has(reason)) {
      warned.add(reason);
      process.stderr.write(`skipped (needs data): ${reason}\n`);
    }
  }
  return { present, note: present ? '' : ` [skipped: ${what} not installed]`, path: (p) => resolve(dir, p) };
}

/** The BSM1 weather files (dry, rain, storm) of the Lund toolbox. */
export const BSM1_WEATHER = ['bsm1/influent_lund_toolbox/dryinfluent.ascii'];
