/**
 * Anomaly detection on the plant twin's fault scenarios: `npx tsx eval/twin-faults/run.ts [--runs N] [--days D] [--control R] [--first-seed S] [--config FILE] [--no-report]`.
 * Twin (in process, full plant) -> the daemon's windows -> the daemon's inference with the shipped bundles in models/
 * -> the daemon's control (with the window's anomaly rows, as its pipeline passes them) -> setpoints back to the twin.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { SetpointHistory } from '../../src/control/index.js';
import { createInference } from '../../src/inference/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { systemClock } from '../../src/lib/clock.js';
import { createSetpointLine, createSupervisor, type ControlRegime } from '../../src/models/twin-control.js';
import { createTwinStepper } from '../../src/models/twin-windows.js';
import type { PlantWindow } from '../../src/contract/ports.js';
import { repoRoot, writeReportSection } from '../lib/report.js';
import { episodesOf, scoreDetections, type TruthEvent } from './matching.js';
import { evaluationRuns, EVENT_SPACING_HOURS } from './scenario.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, days: { type: 'string', default: '12' }, grace: { type: 'string', default: '3' }, models: { type: 'string' }, control: { type: 'string', default: 'supervisory' }, 'first-seed': { type: 'string', default: '301' }, config: { type: 'string' }, 'no-report': { type: 'boolean', default: false } } });
const regime = values.control as ControlRegime;
const base = loadConfig({ file: values.config });
const runs = evaluationRuns(Number(values.runs), Number(values.days), (stage, signal) => {
  const s = base.signals.find((c) => c.stage === stage && c.id === signal);
  return s ? s.max - s.min : 1;
}, Number(values['first-seed']));
const graceMs = Number(values.grace) * 3_600_000;
const config = { ...base, models: { ...base.models, dir: values.models ?? resolve(repoRoot, 'models') } };
const windowMs = config.windows.sizeSec * 1000;
const slideMs = config.windows.slideSec * 1000;

const events: TruthEvent[] = [];
const anomalousEnds: number[] = [];
/** What made each anomalous window anomalous: a stage detector's own verdict or a sensor check. */
const causeOf = new Map<number, Set<string>>();
const byCause = new Map<string, number>();
let windows = 0;
const started = performance.now();
for (const run of runs) {
  const epochMs = Date.UTC(2025, 0, 1) + runs.indexOf(run) * 30 * 86_400_000;
  const twin = createTwinStepper({ influent: run.influent, days: run.days, seed: run.seed, faults: run.faults, signals: config.signals, windows: config.windows, epochMs, plant: 'full', control: regime });
  // The daemon's runtime shares one setpoint history between control and the models' loop-deviation check.
  const setpoints = new SetpointHistory();
  const supervisor = regime === 'default' ? undefined : createSupervisor(config.control, regime, run.seed, setpoints);
  const line = supervisor ? createSetpointLine(supervisor) : undefined;
  const noop = (): void => undefined;
  const inference = createInference({
    config, site: 'eval', publisher: { publish: noop }, tables: { insert: noop }, state: { getState: () => undefined, setState: noop },
    alarms: { raise: noop, clear: noop }, logger: silentLogger(), metrics: createMetrics(false), clock: systemClock, setpoints,
  });
  await inference.start(new AbortController().signal);
  let runWindows = 0;
  const score = async (w: PlantWindow, m: number): Promise<void> => {
    const out = await inference.onWindow(w);
    supervisor?.onWindow(w, out.untrusted);
    line?.send(m);
    windows += 1;
    runWindows += 1;
    const hits = out.anomalies.filter((a) => a.isAnomaly);
    if (hits.length === 0) return;
    anomalousEnds.push(w.end);
    const causes = new Set<string>(out.sensorFlags.map((f) => `sensor check ${f.check} ${f.stage}.${f.signal}`));
    for (const a of hits) if (a.model !== 'sensor-checks' && a.score !== null && a.score > a.threshold) causes.add(`stage detector ${a.stage} (mostly ${(JSON.parse(a.contributors) as { signal: string }[])[0]?.signal ?? '?'})`);
    causeOf.set(w.end, causes);
    for (const a of hits) byCause.set(a.model === 'sensor-checks' ? 'sensor checks' : 'stage detector', (byCause.get(a.model === 'sensor-checks' ? 'sensor checks' : 'stage detector') ?? 0) + 1);
    for (const f of out.sensorFlags) byCause.set(`sensor check: ${f.check}`, (byCause.get(`sensor check: ${f.check}`) ?? 0) + 1);
  };
  const seen = new Set<number>();
  for (let m = 1; m <= twin.totalMin; m += 1) {
    for (const w of twin.step()) {
      seen.add(w.end);
      await score(w, m);
    }
    const due = line?.arrived(m);
    if (due) twin.setLoops(due);
  }
  // Windows still open at the end of the run (or with a stage missing) are scored too, as before.
  for (const w of twin.finish()) if (!seen.has(w.end)) await score(w, twin.totalMin);
  await inference.stop();
  events.push(...twin.truth);
  console.log(`${run.influent} seed ${run.seed}: ${runWindows} windows, ${twin.truth.length} events`);
}
const score = scoreDetections(events, anomalousEnds, windowMs, slideMs, graceMs);
// False episodes by what raised their first window, to tell model false alarms from sensor-check ones.
const falseCauses = new Map<string, number>();
for (const ep of episodesOf([...anomalousEnds].sort((a, b) => a - b), windowMs, slideMs)) {
  if (events.some((e) => ep.end > e.start && ep.start < e.end + graceMs)) continue;
  const before = events.filter((e) => e.end <= ep.start).at(-1);
  console.log(`false episode ${new Date(ep.start).toISOString()} - ${new Date(ep.end).toISOString()}: ${[...(causeOf.get(ep.firstDetection) ?? [])].join('; ')}${before ? ` (${((ep.start - before.end) / 3_600_000).toFixed(1)} h after ${before.kind} ${before.stage}${before.signal ? `.${before.signal}` : ''} ended)` : ''}`);
  for (const c of causeOf.get(ep.firstDetection) ?? new Set(['unknown'])) falseCauses.set(c, (falseCauses.get(c) ?? 0) + 1);
}
const days = runs.reduce((a, r) => a + r.days, 0);
const perKind = new Map<string, { n: number; hit: number; delays: number[] }>();
for (const o of score.events) {
  const k = perKind.get(o.event.kind) ?? { n: 0, hit: 0, delays: [] };
  k.n += 1;
  if (o.detected) {
    k.hit += 1;
    k.delays.push((o.delayMs ?? 0) / 60_000);
  }
  perKind.set(o.event.kind, k);
}
const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const md = `## Anomaly detection on the twin's fault scenarios

Command: \`npx tsx eval/twin-faults/run.ts --runs ${values.runs} --days ${values.days} --grace ${values.grace} --control ${regime}${values['first-seed'] === '301' ? '' : ` --first-seed ${values['first-seed']}`}\` (shipped bundles in models/,
${runs.length} twin runs of ${values.days} d: ${runs.map((r) => `${r.influent}/seed ${r.seed}`).join(', ')}; training used seeds 101-102, held-out metrics seed 201).
Plant and control as the daemon runs them: the full nine-stage plant (\`plant: 'full'\`), ${regime === 'default' ? 'BSM1 default control only' : `the daemon's supervisory control (createControl, regime \`${regime}\`) on every window close, fed with that window's anomaly rows as the daemon's pipeline does (a loop whose stage's readings are in doubt, by the stage detector or a measurement check, falls back to its fallback setpoint), its setpoints reaching the twin's PLC after a seeded latency of 0-12 min (real time to lockstep)`}.
Each run starts from the stabilised state of that plant and covers the weather file's rain/storm events; one fault every
${EVENT_SPACING_HOURS} h of plant time, kinds in turn (eval/twin-faults/scenario.ts: instruments, durations, magnitudes; unset magnitudes
are the twin's defaults, e.g. a bias of 10 % of the measuring span). A sensor fault kind is never put twice on one signal in a run,
to keep every instrument's faults apart.
The twin's readings go through the daemon's own windows (${config.windows.sizeSec} s) and its inference (a stage detector per stage, the
detector family and scoring of \`anomaly fit/score\` (src/anomaly/online.ts), plus sensor checks), exactly as in the daemon.

**Matching.** A plant window is *anomalous* when any stage's anomaly row has \`isAnomaly\`. A ground-truth event [start, end] is
*detected* when an anomalous window ends inside (start, end + grace], grace = ${values.grace} h (process faults act on for a while
after they end); its *delay* is that first window end minus start. Anomalous windows whose ends are at most one slide apart form one
*detection episode*; an episode that overlaps no event's [start, end + grace] is a *false positive*.
Precision = episodes overlapping an event / all episodes; recall = detected events / events.

| figure | value | goal |
|---|---|---|
| events | ${events.length} | >= 30 |
| event precision | ${fmt(score.precision, 3)} | >= 0.95 |
| event recall | ${fmt(score.recall, 3)} | >= 0.95 |
| median detection delay | ${fmt(score.medianDelayMin, 1)} min | <= 5 min |
| detection episodes (true / false) | ${score.truePositiveEpisodes} / ${score.falsePositiveEpisodes} | |
| false alarms per simulated day | ${fmt(score.falsePositiveEpisodes / days, 3)} | |
| plant windows scored | ${windows} (${days} simulated days) | |

| fault kind | events | detected | median delay (min) |
|---|---|---|---|
${[...perKind.entries()].map(([kind, k]) => `| ${kind} | ${k.n} | ${k.hit} | ${fmt(median(k.delays), 1)} |`).join('\n')}

Missed events: ${score.events.filter((o) => !o.detected).map((o) => `${o.event.kind} ${o.event.stage}${o.event.signal ? `.${o.event.signal}` : ''}`).join(', ') || 'none'}.
False episodes by cause (an episode may have several): ${[...falseCauses.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.
Anomalous stage rows by cause: ${[...byCause.entries()].map(([k, v]) => `${k} ${v}`).join(', ')}. Wall time ${((performance.now() - started) / 1000).toFixed(0)} s.
`;
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}
if (values['no-report'] !== true) writeReportSection('docs/evaluation.md', 'twin-faults', md);
console.log(md);
