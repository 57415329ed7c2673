import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../../src/sim/simulate.js';

/** Repository root, whichever script asks. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Shared evaluation data (never copied into the repository). */
export const dataDir = defaultDataDir;

/**
 * Replaces (or appends) one named section of a markdown report, so several evaluation and benchmark
 * scripts can share docs/evaluation.md and docs/benchmarks.md without overwriting each other.
 */
export function writeReportSection(file: 'docs/evaluation.md' | 'docs/benchmarks.md' | string, name: string, markdown: string): void {
  const path = resolve(repoRoot, file);
  mkdirSync(dirname(path), { recursive: true });
  const title = file.includes('benchmarks') ? '# Benchmarks' : '# Evaluation';
  const current = existsSync(path) ? readFileSync(path, 'utf8') : `${title}\n\nEach section is written by the script it names; rerun that command to refresh it.\n`;
  const start = `<!-- section:${name}:start -->`;
  const end = `<!-- section:${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from
    ? current.slice(0, from) + block + current.slice(to + end.length)
    : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
