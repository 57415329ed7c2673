/**
 * Stage predictors on held-out twin data: `npx tsx eval/predictors/run.ts [--days D] [--seed N] [--control default,supervisory]`.
 * Twin runs of the full plant (a seed never used in training) under each control regime -> the daemon's windows -> the
 * shipped bundles in onnxruntime-node, judged on the last third of each run (a later time block than the bundles
 * were trained on) against persistence, per stage, target and horizon.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { targetKey } from '../../src/inference/eligibility.js';
import { scanBundles } from '../../src/inference/registry-file.js';
import { loadVerifiedModel, runSession } from '../../src/inference/session.js';
import { rowsFromWindows } from '../../src/models/dataset.js';
import { addSample, emptySums, figuresOf, type SkillSums } from '../../src/models/metrics.js';
import { SKILL_BAR, SKILL_BAR_HORIZONS_MIN } from '../../src/models/specs.js';
import { runTimeBlocks } from '../../src/models/train-predictors.js';
import type { ControlRegime } from '../../src/models/twin-control.js';
import { runTwinWindows, type Weather } from '../../src/models/twin-windows.js';
import { repoRoot, writeReportSection } from '../lib/report.js';

const { values } = parseArgs({ options: { days: { type: 'string', default: '14' }, seed: { type: 'string', default: '401' }, control: { type: 'string', default: 'default,supervisory' } } });
const config = loadConfig();
const days = Number(values.days);
const seed = Number(values.seed);
const weathers: Weather[] = ['dry', 'rain', 'storm'];
const regimes = values.control.split(',') as ControlRegime[];
const runs = regimes.flatMap((control) => weathers.map((influent) => {
  const run = runTwinWindows({ influent, days, seed, signals: config.signals, windows: config.windows, plant: 'full', control, controlConfig: config.control });
  console.error(`twin ${influent}/${control}: ${run.windows.length} windows`);
  return { influent, control, windows: run.windows };
}));
const bundles = (await scanBundles(resolve(repoRoot, 'models'))).filter((b) => b.name.startsWith('predict-'));
const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const lines: string[] = [];
const misses: string[] = [];
let judged = 0;
for (const b of bundles) {
  const model = await loadVerifiedModel(b.dir, { intraOpThreads: 1 });
  const sums = new Map<string, SkillSums>();
  for (const { influent, windows } of runs) {
    // The later block of the run is judged; the windows before it feed the history inputs.
    const { later } = runTimeBlocks(windows, 1 / 3);
    const first = later[0]?.end ?? 0;
    const k = model.targets.length;
    // Rows per horizon, as in training: a day-ahead target does not shorten the block of the others.
    for (const h of new Set(model.targets.map((t) => t.horizonMin))) {
      const columns = model.targets.map((t, j) => (t.horizonMin === h ? j : -1)).filter((j) => j >= 0);
      const rows = rowsFromWindows(windows, model.inputs, columns.map((j) => model.targets[j] ?? model.targets[0]!));
      const keep = rows.ends.map((e, i) => (e >= first ? i : -1)).filter((i) => i >= 0);
      if (keep.length === 0) continue;
      const out = await runSession(model.session, Float32Array.from(keep.flatMap((i) => rows.x[i] ?? [])), model.inputs.length);
      const predicted = out['prediction'] ?? new Float32Array();
      columns.forEach((j, c) => {
        const t = model.targets[j];
        if (!t) return;
        for (const key of [`${targetKey(t)}|all`, `${targetKey(t)}|${influent}`]) {
          const s = sums.get(key) ?? emptySums();
          keep.forEach((i, r) => addSample(s, predicted[r * k + j] ?? Number.NaN, rows.y[i]?.[c] ?? Number.NaN, rows.now[i]?.[c] ?? Number.NaN));
          sums.set(key, s);
        }
      });
    }
  }
  for (const t of model.targets) {
    const key = targetKey(t);
    const all = figuresOf([sums.get(`${key}|all`) ?? emptySums()]);
    const per = weathers.map((w) => fmt(figuresOf([sums.get(`${key}|${w}`) ?? emptySums()]).mseSkill));
    const onBar = (SKILL_BAR_HORIZONS_MIN as readonly number[]).includes(t.horizonMin);
    const meets = all.mseSkill >= SKILL_BAR;
    if (onBar) {
      judged += 1;
      if (!meets) misses.push(key);
    }
    const eligible = model.manifest.eligibility?.targets[key]?.eligible;
    lines.push(`| ${t.stage} | ${t.signal} | ${t.horizonMin} min | ${all.n} | ${fmt(all.r2)} | **${fmt(all.mseSkill)}** | ${per.join(' | ')} | ${onBar ? (meets ? 'yes' : 'NO') : '-'} | ${eligible === undefined ? 'n/a' : eligible ? 'published' : 'not published'} |`);
  }
  await model.session.release();
}
const md = `## Stage predictors on held-out twin data

Command: \`npx tsx eval/predictors/run.ts --days ${days} --seed ${seed} --control ${values.control}\`: ${days} d of each BSM1 weather (dry, rain, storm) with twin seed ${seed}
(never trained on: training used seeds 101-102, the manifests' held-out figures seed 201) on the full nine-stage plant as the daemon runs it,
under each control regime (${regimes.map((r) => (r === 'default' ? 'default: BSM1 default control only' : `${r}: the daemon's supervisory control in the loop`)).join('; ')}),
through the daemon's windows (${config.windows.sizeSec} s), predicted by the shipped bundles (\`npx tsx src/models/build-shipped.ts --only predictors\`) in onnxruntime-node.
Judged on the **last third of each run** (days ${(days * 2 / 3).toFixed(1)}-${days}: a later time block than the bundles learnt from, which was the first two thirds
of the training seeds' runs); the earlier windows only feed the history inputs. Each predictor is a ridge regression on its targets' and drivers'
window means, slopes and means 15 min to 4 h before, and the time of day and weekday. *MSE skill* = 1 - MSE / MSE of persistence (the value
at the horizon = the value now), pooled over weathers and regimes, then per weather. The bar: skill >= ${SKILL_BAR} at ${SKILL_BAR_HORIZONS_MIN.join(' and ')} min for every target;
a target that misses it on its held-out block is marked not eligible in its manifest and not published by the daemon.

| stage | target | horizon | windows | R^2 | MSE skill | dry | rain | storm | meets bar | in the daemon |
|---|---|---|---|---|---|---|---|---|---|---|
${lines.join('\n')}

Targets at ${SKILL_BAR_HORIZONS_MIN.join(' and ')} min meeting the bar: **${judged - misses.length} of ${judged}**${misses.length > 0 ? `; missing it: ${misses.join(', ')}` : ''}.
`;
writeReportSection('docs/evaluation.md', 'predictors', md);
console.log(md);
