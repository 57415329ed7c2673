/**
 * The model lifecycle on the twin, end to end (eval/lifecycle/scenario.ts, interventions.ts):
 *   npx tsx eval/lifecycle/run.ts [--days D] [--change-day C] [--delta=-8] [--ramp 2] [--broken-day B] [--analyzer-day A] [--speed S] [--models a,b] [--dry]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelsMessage } from '../../src/contract/topics.js';
import { writeReportSection } from '../lib/report.js';
import { cli, storedMax, storedMedian, trainBroken, writeTrap, type CliRun } from './interventions.js';
import { lastFigures, runLifecycleScenario, type RunningScenario } from './scenario.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '12' },
    'change-day': { type: 'string', default: '3' },
    delta: { type: 'string', default: '-8' },
    ramp: { type: 'string', default: '2' },
    'broken-day': { type: 'string', default: '4' },
    'analyzer-day': { type: 'string', default: '10.5' },
    speed: { type: 'string', default: '1500' },
    seed: { type: 'string', default: '11' },
    models: { type: 'string', default: 'predict-aerobic,anomaly-aerobic' },
    dry: { type: 'boolean', default: false },
  },
});
const DAY_MS = 86_400_000;
const PREDICTOR = 'predict-aerobic';
const TRAP_VERSION = 'r-trap';
/** The copy with a fault built in is handed over this many plant days before the analyzer is replaced (12 h of shadow, then watched). */
const TRAP_LEAD_DAYS = 1.5;
/** The replaced anoxic NH4 analyzer reads this many mg/L high; the trap adds TRAP_GAIN mg/L per mg/L above its knee. */
const ANALYZER_OFFSET = 15;
const TRAP_GAIN = 1;
const brokenDay = Number(values['broken-day']);
const analyzerDay = Number(values['analyzer-day']);
const gateEnv = { WWTP_EDGE_MODELS__LIFECYCLE__GATE__HELD_OUT_DAYS: '1' };

interface Intervention {
  readonly what: string;
  readonly day: number;
  readonly run?: CliRun;
}
const interventions: Intervention[] = [];
const pending: Promise<void>[] = [];
let brokenAsked = false;
let trapAsked = false;
let trapKnee = Number.NaN;
let trappedFrom = '';

const dayOf = (plantTs: number | null, run: RunningScenario): number => (plantTs === null ? Number.NaN : (plantTs - run.startPlantMs()) / DAY_MS);

function intervene(m: ModelsMessage, run: RunningScenario): void {
  const day = dayOf(m.plantTs, run);
  if (!brokenAsked && day >= brokenDay) {
    brokenAsked = true;
    pending.push((async () => {
      const { version, run: trained } = await trainBroken(run.store, run.dir, run.modelsDir, PREDICTOR);
      if (trained.code !== 0) return void interventions.push({ what: 'broken candidate not trained', day, run: trained });
      const gated = await cli(['models', 'shadow', `${PREDICTOR}@${version}`, '--from-store', '--db', run.store, '--dir', run.modelsDir], gateEnv);
      run.log(`broken candidate ${version}: models shadow --from-store exited ${gated.code}`);
      interventions.push({ what: `${PREDICTOR}@${version}: trained on the store's history with the aerobic NH4 and NO3 tags swapped, handed over with \`models shadow --from-store\``, day, run: gated });
    })());
  }
  // TRAP_LEAD_DAYS before the analyzer is replaced: a copy of the active version with a fault built in, run in
  // shadow beside it, so that once promoted it is still watched when its fault sets off.
  const promoted = m.models.find((x) => x.name === PREDICTOR && x.state === 'active' && x.version !== TRAP_VERSION);
  if (!trapAsked && promoted && day >= analyzerDay - TRAP_LEAD_DAYS && day < analyzerDay - 0.6) {
    trapAsked = true;
    trappedFrom = promoted.model;
    pending.push((async () => {
      trapKnee = storedMax(run.store, 'anoxic', 'nh4_n') + 2;
      await writeTrap(join(run.modelsDir, PREDICTOR, promoted.version), join(run.modelsDir, 'candidates', PREDICTOR, TRAP_VERSION), TRAP_VERSION, 'anoxic.nh4_n.mean', trapKnee, TRAP_GAIN);
      const asked = await cli(['models', 'shadow', `${PREDICTOR}@${TRAP_VERSION}`, '--dir', run.modelsDir]);
      run.log(`trap ${TRAP_VERSION} from ${promoted.model}: models shadow exited ${asked.code}`);
      interventions.push({ what: `${PREDICTOR}@${TRAP_VERSION}: a copy of ${promoted.model} with a fault built in (+${TRAP_GAIN} mg/L on every target per mg/L of anoxic NH4 above ${trapKnee.toFixed(1)}, 2 above the highest reading so far), handed over with \`models shadow\``, day, run: asked });
    })());
  }
}

const t0 = Date.now();
const r = await runLifecycleScenario({
  days: Number(values.days),
  changeDay: Number(values['change-day']),
  deltaC: Number(values.delta),
  rampDays: Number(values.ramp),
  speed: Number(values.speed),
  seed: Number(values.seed),
  models: values.models.split(','),
  faults: [`{ kind: sensor_bias, stage: anoxic, signal: nh4_n, start: ${analyzerDay}d, end: 10000d, magnitude: ${ANALYZER_OFFSET} }`],
  onModels: intervene,
  env: {
    ...gateEnv,
    WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__ENABLED: 'true',
    WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__WINDOWS: '500',
    WWTP_EDGE_MODELS__LIFECYCLE__SHADOW__HOURS: '12',
    // the copy with the fault built in matches its original to float precision until the fault sets off
    WWTP_EDGE_MODELS__LIFECYCLE__SHADOW__SKILL_SLACK: '0.01',
    WWTP_EDGE_MODELS__LIFECYCLE__ROLLBACK__HOURS: '6',
  },
});
await Promise.all(pending);

/** model_events rows stamped with the registry's wall clock; the others carry plant time. */
const WALL_EVENTS = new Set(['activation', 'promotion', 'rollback']);
const day = (ts: number): string => ((ts - r.startPlantMs) / DAY_MS).toFixed(2);
/** The plant time of the first edge/models message published at or after a wall time (rows stamped with the wall clock). */
const plantAtWall = (wallMs: number): number | undefined => r.messages.find((m) => m.ts >= wallMs && m.plantTs !== null)?.plantTs ?? undefined;
const plantEvents = r.stored.filter((e) => e.event !== 'activation' || e.by !== 'daemon' || !e.reason.startsWith('loaded at start'));
const when = (e: { ts: number; model: string; event: string }): string => {
  if (!WALL_EVENTS.has(e.event)) return day(e.ts);
  const seen = plantAtWall(e.ts); // each row by its own time: two rollbacks to one version are two rows
  return seen !== undefined ? `${day(seen)} (wall ${new Date(e.ts).toISOString().slice(11, 19)})` : `wall ${new Date(e.ts).toISOString().slice(11, 19)}`;
};
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : 'n/a');
const fig = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(3));

// Detection, promotion and rollback, from the outside.
const change = r.changePlantMs;
const analyzerMs = r.startPlantMs + analyzerDay * DAY_MS;

// Detection: the first edge/models message after the change that names the water temperature among the predictor's drifted inputs.
const detection = r.messages.find((m) => m.plantTs !== null && m.plantTs >= change && m.models.some((x) => x.model === `${PREDICTOR}@1.0.0` && x.drifted.some((d) => d.startsWith('aerobic.temperature.'))));
const detectedWith = detection?.models.find((x) => x.model === `${PREDICTOR}@1.0.0`);
const promotions = r.stored.filter((e) => e.event === 'promotion' && e.model.startsWith(`${PREDICTOR}@`) && !e.model.endsWith(TRAP_VERSION));
const firstPromotion = promotions[0];
const promotedAt = firstPromotion ? plantAtWall(firstPromotion.ts) : undefined;
const rollbacks = r.stored.filter((e) => e.event === 'rollback' && e.model.startsWith(`${PREDICTOR}@`));
// its own rows, and the rollback away from it (a row of the version rolled back to, `previous` the copy), or the reversal of a rollback to it
const awayFromTrap = (e: { event: string; model: string; previous: string | null }): boolean => (e.event === 'rollback' || e.event === 'promotion') && e.model.startsWith(`${PREDICTOR}@`) && e.previous === TRAP_VERSION;
const trapEvents = r.stored.filter((e) => e.event !== 'trigger' && (e.model === `${PREDICTOR}@${TRAP_VERSION}` || awayFromTrap(e)));
const trapEvent = (e: { model: string; event: string; reason: string }): string => {
  const other = e.model.slice(PREDICTOR.length + 1);
  if (e.model.endsWith(`@${TRAP_VERSION}`)) return e.event === 'rollback' ? 'rolled back to it' : e.event;
  return e.event === 'rollback' ? `rolled back from it to ${other}` : e.reason.startsWith('the rollback from') ? `the rollback to it reversed, back to ${other}` : `replaced by ${other}`;
};
// What the daemon had of the replaced analyzer: the stored anoxic NH4 after the change, against the copy's knee.
const anoxicBefore = storedMedian(r.store, 'anoxic', 'nh4_n', analyzerMs - DAY_MS, analyzerMs);
const anoxicAfter = storedMedian(r.store, 'anoxic', 'nh4_n', analyzerMs, analyzerMs + 10 * DAY_MS);
// Every version of the predictor on the last edge/models message: its state and live 24 h skill.
const lastMessage = r.messages.at(-1);
const finalVersions = (lastMessage?.models ?? []).filter((m) => m.name === PREDICTOR && (m.state === 'active' || m.state === 'shadow' || m.state === 'rolled_back' || m.model.endsWith(TRAP_VERSION)));
const finalKeys = [...new Set(finalVersions.flatMap((m) => Object.keys(m.skill)))].sort();
const finalRows = finalVersions.map((m) => `| ${m.model} | ${m.state} | ${finalKeys.map((k) => `${fig(m.skill[k]?.['24h'].mseSkill)} (${m.skill[k]?.['24h'].n ?? 0})`).join(' | ')} |`);

interface ShadowDetail { figures?: { candidate?: { skill?: Record<string, { n: number; mseSkill: number }> }; active?: { skill?: Record<string, { n: number; mseSkill: number }> } } }
const shadowSkill = (row: { detail: string } | undefined): string => {
  if (!row) return '';
  const detail = (JSON.parse(row.detail) as { shadow?: ShadowDetail }).shadow;
  const candidate = detail?.figures?.candidate?.skill ?? {};
  const active = detail?.figures?.active?.skill ?? {};
  const keys = Object.keys(candidate).sort();
  return ['| target | compared | previous version | promoted version |', '|---|---|---|---|',
    ...keys.map((k) => `| ${k} | ${candidate[k]?.n ?? 0} | ${fig(active[k]?.mseSkill)} | ${fig(candidate[k]?.mseSkill)} |`)].join('\n');
};
// Live skill after the promotion: the promoted version's 24 h figures just before the analyzer was replaced (or at the end).
const beforeAnalyzer = r.messages.filter((m) => m.plantTs !== null && m.plantTs < analyzerMs);
// while it was active: a version replaced before the analyzer change has no figures once it is retired
const afterPromotion = firstPromotion ? lastFigures(beforeAnalyzer.filter((m) => m.models.some((x) => x.model === firstPromotion.model && x.state === 'active')), firstPromotion.model) : undefined;
const oldBefore = lastFigures(r.messages.filter((m) => m.plantTs !== null && promotedAt !== undefined && m.plantTs < promotedAt), `${PREDICTOR}@1.0.0`);
const liveRows = afterPromotion ? Object.keys(afterPromotion.skill).sort().map((k) => `| ${k} | ${fig(oldBefore?.skill[k]?.['24h'].mseSkill)} | ${fig(afterPromotion.skill[k]?.['24h'].mseSkill)} (${afterPromotion.skill[k]?.['24h'].n ?? 0}) |`) : [];

const command = `npx tsx eval/lifecycle/run.ts --days ${values.days} --change-day ${values['change-day']} --delta=${values.delta} --ramp ${values.ramp} --broken-day ${brokenDay} --analyzer-day ${analyzerDay} --speed ${values.speed} --seed ${values.seed} --models ${values.models}`;
const cliLine = (run: CliRun | undefined): string => (run ? `exit ${run.code}; ${(run.stderr.trim().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm warn')).slice(-3).join(' / ') || run.stdout.trim().split('\n').slice(-1)[0] || '').replace(/\|/g, '/').slice(0, 700)}` : '');
const markdown = `## Model lifecycle on the twin, end to end

Command: \`${command}\`. The built daemon as a child process with ${values.models.split(',').join(', ')} (shipped, twin-trained) active, retraining in
the background on (new-windows trigger at 500 windows, skill and drift triggers on, gate block and held-out block of retraining 1 d, shadow 12 h with a
skill slack of 0.01, rollback judged over 6 h), and \`wwtp-edge sim\` as the plant over MQTT at ${values.speed}x for ${values.days} plant days:
from day ${values['change-day']} the water cools by ${Math.abs(Number(values.delta))} degC over ${values.ramp} days (temperature_change: nitrification slows, aerobic NH4
climbs); from day ${analyzerDay} the anoxic NH4 analyzer is replaced by one reading ${ANALYZER_OFFSET} mg/L high (sensor_bias). From the outside, as an
integrator would: on day ${brokenDay} a deliberately broken candidate (trained with the aerobic NH4 and NO3 tags swapped) is handed over
with \`wwtp-edge models shadow --from-store\`; ${TRAP_LEAD_DAYS} plant days before the analyzer is replaced, a copy of ${PREDICTOR}'s active version
with a fault built in (it goes wrong once the anoxic NH4 reads above anything seen so far) is handed over with \`models shadow\`.
Everything below is read from the outside (the retained \`edge/models\`, \`/metrics\`, the store's \`model_events\`, the CLI's exit
and stderr). Plant day 0 is the twin's start (approximate: its clock ends at the wall clock's now); activation, promotion and
rollback rows carry the wall clock, their day is the plant time of the \`edge/models\` message that first carried them.

**Measured:**
- Change (day ${values['change-day']}) to its detection, the water temperature among ${PREDICTOR}@1.0.0's drifted inputs on \`edge/models\`: ${detection?.plantTs ? `${((detection.plantTs - change) / DAY_MS).toFixed(2)} plant days (drifted: ${detectedWith?.drifted.join(', ') ?? ''})` : 'not detected'}.
- Change to the first promotion of a retrained ${PREDICTOR}: ${firstPromotion && promotedAt !== undefined ? `${((promotedAt - change) / DAY_MS).toFixed(2)} plant days (${firstPromotion.model})` : 'none in the run'}.
- Broken candidate: ${interventions.filter((i) => i.what.includes('tags swapped')).map((i) => `day ${i.day.toFixed(2)}, ${cliLine(i.run)}`).join('; ') || 'not handed over'}.
- Copy with a fault built in${Number.isFinite(trapKnee) ? ` (knee ${trapKnee.toFixed(1)} mg/L of anoxic NH4; stored anoxic NH4, median of the day before the analyzer change ${fig(anoxicBefore)}, after it ${fig(anoxicAfter)} mg/L)` : ''}: ${trapEvents.length > 0 ? trapEvents.map((e) => `${trapEvent(e)} (day ${when(e)})`).join(', ') : trapAsked ? 'handed over, no event' : 'not handed over'}${trappedFrom ? `, from ${trappedFrom}` : ''}.
- Automatic rollbacks: ${rollbacks.length === 0 ? 'none in the run' : rollbacks.map((rb) => {
  const at = plantAtWall(rb.ts);
  const from = /^rolled back from (\S+)/.exec(rb.reason)?.[1] ?? '';
  const promotedFrom = r.stored.find((e) => e.event === 'promotion' && e.model === `${PREDICTOR}@${from}`);
  const since = promotedFrom ? plantAtWall(promotedFrom.ts) : undefined;
  const timing = at === undefined ? '' : `day ${day(at)}, ${since !== undefined ? `${((at - since) / DAY_MS * 24).toFixed(1)} plant hours after its promotion, ` : ''}${at >= analyzerMs ? `${((at - analyzerMs) / DAY_MS * 24).toFixed(1)} plant hours after the analyzer was replaced` : `before the analyzer was replaced (day ${analyzerDay})`}`;
  return `${timing}: ${rb.reason.replace(/\|/g, '/').slice(0, 500)}`;
}).join('; ')}.

${firstPromotion ? `Live MSE skill over persistence of the first promotion, both versions on the same shadow windows (its \`promotion\` row's detail):

${shadowSkill(firstPromotion)}

The promoted version's live 24 h MSE skill (samples) as last published while it was active, before the analyzer was replaced (from its shadow run on, so its shadow windows count), against the shipped version's 24 h figures just before the promotion:

| target | ${PREDICTOR}@1.0.0 before | ${firstPromotion.model} after |
|---|---|---|
${liveRows.join('\n')}
` : ''}
${finalRows.length > 0 ? `Every version of ${PREDICTOR} on the last \`edge/models\` message (plant day ${lastMessage?.plantTs ? day(lastMessage.plantTs) : '-'}), live 24 h MSE skill (samples):

| version | state | ${finalKeys.join(' | ')} |
|---|---|${finalKeys.map(() => '---|').join('')}
${finalRows.join('\n')}
` : ''}
| plant day | model | event | reason |
|---|---|---|---|
${plantEvents.map((e) => `| ${when(e)} | ${e.model} | ${e.event} | ${e.reason.replace(/\|/g, '/').slice(0, 300)} |`).join('\n')}

Window to setpoints (the daemon's \`wwtp_edge_window_to_setpoint_seconds\`): while a retraining child ran, ${r.latency.training.windows} windows, ${pct(r.latency.training.within20ms)} within 20 ms
(${pct(r.latency.training.within10ms)} within 10 ms); otherwise ${r.latency.idle.windows} windows, ${pct(r.latency.idle.within20ms)} within 20 ms. The twin, the daemon, the
training and the CLI runs share two cores.

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${((Date.now() - t0) / 1000).toFixed(0)} s of wall time.`;
console.log(markdown);
if (!values.dry) writeReportSection('docs/evaluation.md', 'lifecycle-twin', markdown);
