/**
 * The model lifecycle on the twin, end to end (eval/lifecycle/scenario.ts):
 *   npx tsx eval/lifecycle/run.ts [--days D] [--change-day C] [--delta -8] [--ramp 2] [--speed S] [--models a,b] [--dry]
 */
import { parseArgs } from 'node:util';
import { writeReportSection } from '../lib/report.js';
import { runLifecycleScenario } from './scenario.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '8' },
    'change-day': { type: 'string', default: '3' },
    delta: { type: 'string', default: '-8' },
    ramp: { type: 'string', default: '2' },
    speed: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '11' },
    models: { type: 'string', default: 'predict-aerobic,anomaly-aerobic' },
    dry: { type: 'boolean', default: false },
  },
});
const t0 = Date.now();
const r = await runLifecycleScenario({
  days: Number(values.days),
  changeDay: Number(values['change-day']),
  deltaC: Number(values.delta),
  rampDays: Number(values.ramp),
  speed: Number(values.speed),
  seed: Number(values.seed),
  models: values.models.split(','),
  env: {
    WWTP_EDGE_MODELS__LIFECYCLE__GATE__HELD_OUT_DAYS: '0.5',
    WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__ENABLED: 'true',
    WWTP_EDGE_MODELS__LIFECYCLE__NEW_WINDOWS__WINDOWS: '500',
    WWTP_EDGE_MODELS__LIFECYCLE__SHADOW__HOURS: '12',
  },
});
/** model_events rows stamped with the registry's wall clock; the others carry plant time. */
const WALL_EVENTS = new Set(['activation', 'promotion', 'rollback']);
const day = (ts: number): string => ((ts - r.startPlantMs) / 86_400_000).toFixed(2);
const plantEvents = r.stored.filter((e) => e.event !== 'activation' || e.by !== 'daemon' || !e.reason.startsWith('loaded at start'));
const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : 'n/a');
const command = `npx tsx eval/lifecycle/run.ts --days ${values.days} --change-day ${values['change-day']} --delta ${values.delta} --ramp ${values.ramp} --speed ${values.speed} --seed ${values.seed} --models ${values.models}`;
const markdown = `## Model lifecycle on the twin, end to end

Command: \`${command}\`. The built daemon as a child process with ${values.models.split(',').join(', ')} (shipped, twin-trained) active, retraining in
the background on (new-windows trigger at 500 windows, skill and drift triggers on, gate block 0.5 d, shadow 12 h), and
\`wwtp-edge sim\` as the plant over MQTT at ${values.speed}x for ${values.days} plant days; from day ${values['change-day']} the water cools by ${Math.abs(Number(values.delta))} degC over
${values.ramp} days (temperature_change: nitrification slows, aerobic NH4 climbs). Everything below is read from the outside (the
retained \`edge/models\`, \`/metrics\`, the store's \`model_events\`). Plant day 0 is the twin's start (approximate: its clock
ends at the wall clock's now); activation, promotion and rollback rows carry the wall clock (UTC) instead.

| plant day | model | event | reason |
|---|---|---|---|
${plantEvents.map((e) => `| ${WALL_EVENTS.has(e.event) ? `wall ${new Date(e.ts).toISOString().slice(11, 19)}` : day(e.ts)} | ${e.model} | ${e.event} | ${e.reason.replace(/\|/g, '/').slice(0, 400)} |`).join('\n')}

Window to setpoints (the daemon's \`wwtp_edge_window_to_setpoint_seconds\`): while a retraining child ran, ${r.latency.training.windows} windows, ${pct(r.latency.training.within20ms)} within 20 ms
(${pct(r.latency.training.within10ms)} within 10 ms); otherwise ${r.latency.idle.windows} windows, ${pct(r.latency.idle.within20ms)} within 20 ms. The twin, the daemon and the
training share two cores.

Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${((Date.now() - t0) / 1000).toFixed(0)} s of wall time.`;
console.log(markdown);
if (!values.dry) writeReportSection('docs/evaluation.md', 'lifecycle-twin', markdown);
