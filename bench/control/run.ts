/**
 * Closed-loop control benchmark on the plant twin (BSM1 protocol, days 7-14): (a) BSM1 default control
 * alone, (b) the daemon's supervisory policies and safety envelope (the same createControl the daemon
 * runs), fed by PlantWindows built with the daemon's windower from the twin's sensor readings.
 *
 *   npx tsx bench/control/run.ts [--weather dry,rain,storm] [--svg docs/control] [--json FILE] [--params JSON] [--days 14] [--loops do,was_flow] [--plant full]
 *
 * `--plant full` runs the nine-stage plant (primary clarifier, MBR, chemical P removal) instead of the exact
 * BSM1 plant and adds the membrane figures: pumping energy, backwash water, the backwash-interval setpoints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, repoRoot } from '../../src/config/load.js';
import type { LoopConfig } from '../../src/config/sections/control.js';
import { createControl } from '../../src/control/index.js';
import type { LoopId } from '../../src/contract/plant.js';
import type { StateStore, TableWriter } from '../../src/contract/ports.js';
import type { SetpointRow } from '../../src/contract/rows.js';
import { silentLogger } from '../../src/lib/logger.js';
import { systemClock } from '../../src/lib/clock.js';
import { BSM1_ASM1, SNH, SNO, tknOf } from '../../src/sim/asm1.js';
import { evaluatePerformance, simulate, type LoopSetpoints, type PerformanceFigures, type SimulateResult } from '../../src/sim/index.js';
import { TwinWindows } from './plant-window.js';
import { lineChart } from './svg.js';

const { values: args } = parseArgs({
  options: {
    weather: { type: 'string', default: 'dry,rain,storm' },
    svg: { type: 'string', default: 'docs/control' },
    json: { type: 'string', default: 'bench/control/results.json' },
    params: { type: 'string', default: '{}' },
    /** Longer runs repeat the influent file; the last 7 days are evaluated (steady-state check). */
    days: { type: 'string', default: '14' },
    /** Loops the supervisory run drives; the others stay on the PLC's local setpoint (lever study). */
    loops: { type: 'string', default: 'do,internal_recycle,carbon_dose,coagulant_dose,backwash_interval,was_flow' },
    plant: { type: 'string', default: 'bsm1' },
  },
});

const config = loadConfig();
const paramOverrides = JSON.parse(args.params) as Partial<Record<LoopId, Record<string, number>>>;
const driven = new Set(args.loops.split(','));
const loops: LoopConfig[] = config.control.loops
  .filter((l) => driven.has(l.id))
  .map((l) => ({ ...l, params: { ...l.params, ...(paramOverrides[l.id] ?? {}) } }));

interface Conformance {
  setpoints: number;
  inside: number;
  stepViolations: number;
  nonFinite: number;
  byMode: Record<string, number>;
}

const days = Number(args.days);
if (args.plant !== 'bsm1' && args.plant !== 'full') throw new Error(`--plant ${args.plant}: expected bsm1 or full`);
const plantKind = args.plant;
const evaluate = (r: SimulateResult): PerformanceFigures => (days === 14 ? r.performance! : evaluatePerformance(r.engine.samples, days - 7, days));

function supervisedRun(influent: string): { result: SimulateResult; rows: SetpointRow[]; conformance: Conformance } {
  const stateMap = new Map<string, string>();
  const state: StateStore = {
    getState: <T>(key: string) => (stateMap.has(key) ? (JSON.parse(stateMap.get(key)!) as T) : undefined),
    setState: (key, value) => void stateMap.set(key, JSON.stringify(value)),
  };
  const rows: SetpointRow[] = [];
  const tables: TableWriter = {
    insert: (table, inserted) => {
      if (table === 'setpoints') rows.push(...(inserted as readonly SetpointRow[]));
    },
  };
  const control = createControl({
    config: { ...config.control, loops },
    site: config.site,
    publisher: { publish: () => undefined },
    tables,
    state,
    alarms: { raise: () => undefined, clear: () => undefined },
    logger: silentLogger(),
    clock: systemClock,
  });
  const windows = new TwinWindows(config.windows, config.signals);
  const current: LoopSetpoints = {};
  const result = simulate({
    influent,
    days,
    plant: plantKind,
    controlIntervalMin: 1,
    control: ({ t, ts, readings }) => {
      for (const plant of windows.push(Math.round(t * 1440), ts, readings)) {
        for (const row of control.onWindow(plant)) current[row.loop] = row.value;
      }
      return current;
    },
  });
  const conformance: Conformance = { setpoints: rows.length, inside: 0, stepViolations: 0, nonFinite: 0, byMode: {} };
  const last = new Map<LoopId, number>();
  for (const r of rows) {
    const loop = loops.find((l) => l.id === r.loop)!;
    if (!Number.isFinite(r.value)) conformance.nonFinite++;
    if (r.value >= loop.min && r.value <= loop.max) conformance.inside++;
    const prev = last.get(r.loop);
    if (r.mode === 'auto' && prev !== undefined && Math.abs(r.value - prev) > loop.maxStep + 1e-9) conformance.stepViolations++;
    conformance.byMode[r.mode] = (conformance.byMode[r.mode] ?? 0) + 1;
    last.set(r.loop, r.value);
  }
  return { result, rows, conformance };
}

function figures(p: PerformanceFigures) {
  return {
    EQI: p.EQI, AE: p.AE, PE: p.PE, SP: p.SP, EC: p.EC, ME: p.ME, OCI: p.OCI,
    effluent: p.effluentAvg,
    violationsPercent: { Ntot: p.violations.Ntot.percentOfTime, SNH: p.violations.SNH.percentOfTime, TSS: p.violations.TSS.percentOfTime, CODt: p.violations.CODt.percentOfTime, BOD5: p.violations.BOD5.percentOfTime },
  };
}

/**
 * Membrane side of a full-plant run (evaluated days): energy and backwash water of the default run (PLC
 * interval 15 min) against the supervisory one, and how the backwash-interval setpoints moved: a loop
 * that hunts reverses direction many times a day.
 */
function membraneFigures(a: PerformanceFigures, b: PerformanceFigures, rows: readonly SetpointRow[]) {
  const from = Date.UTC(2025, 0, 1) + (days - 7) * 86_400_000;
  const values = rows.filter((r) => r.loop === 'backwash_interval' && r.ts >= from).map((r) => r.value);
  let reversals = 0;
  let direction = 0;
  let anchor = values[0] ?? 0;
  for (const v of values) {
    if (Math.abs(v - anchor) < 2) continue;
    const d = Math.sign(v - anchor);
    if (direction !== 0 && d !== direction) reversals += 1;
    direction = d;
    anchor = v;
  }
  return {
    energyKwhPerDay: [a.full?.membraneEnergy ?? Number.NaN, b.full?.membraneEnergy ?? Number.NaN] as const,
    backwashM3PerDay: [a.full?.backwashLoss ?? Number.NaN, b.full?.backwashLoss ?? Number.NaN] as const,
    interval: {
      mean: values.reduce((x, y) => x + y, 0) / Math.max(values.length, 1),
      min: Math.min(...values),
      max: Math.max(...values),
      reversalsPerDay: reversals / 7,
    },
  };
}

function effluentSeries(r: SimulateResult) {
  const s = r.engine.samples;
  const t: number[] = [], nh4: number[] = [], tn: number[] = [], qint: number[] = [];
  s.t.forEach((ti, i) => {
    if (ti < days - 7 - 1e-9) return;
    const e = s.effluent[i]!;
    t.push(ti);
    nh4.push(e[SNH]!);
    tn.push(tknOf(BSM1_ASM1, e) + e[SNO]!);
    qint.push(s.qint[i]!);
  });
  return { t, nh4, tn, qint };
}

const svgDir = resolve(repoRoot, args.svg);
mkdirSync(svgDir, { recursive: true });
const report: Record<string, unknown> = {};
for (const weather of args.weather.split(',')) {
  const started = performance.now();
  const base = simulate({ influent: weather, days, plant: plantKind });
  const sup = supervisedRun(weather);
  const a = figures(evaluate(base));
  const b = figures(evaluate(sup.result));
  const c = sup.conformance;
  report[weather] = {
    default: a,
    supervisory: b,
    change: { EQI: (b.EQI / a.EQI - 1) * 100, OCI: (b.OCI / a.OCI - 1) * 100 },
    envelope: { ...c, insidePercent: (100 * c.inside) / Math.max(c.setpoints, 1) },
  };
  console.log(`${weather}: EQI ${a.EQI.toFixed(1)} -> ${b.EQI.toFixed(1)} (${((b.EQI / a.EQI - 1) * 100).toFixed(2)} %), OCI ${a.OCI.toFixed(1)} -> ${b.OCI.toFixed(1)} (${((b.OCI / a.OCI - 1) * 100).toFixed(2)} %), AE ${a.AE.toFixed(0)}/${b.AE.toFixed(0)} PE ${a.PE.toFixed(0)}/${b.PE.toFixed(0)} SP ${a.SP.toFixed(0)}/${b.SP.toFixed(0)} EC ${a.EC.toFixed(0)}/${b.EC.toFixed(0)}, setpoints ${c.setpoints} inside ${c.inside}, step violations ${c.stepViolations}, modes ${JSON.stringify(c.byMode)} [${((performance.now() - started) / 1000).toFixed(0)} s]`);

  const membrane = plantKind === 'full' ? membraneFigures(evaluate(base), evaluate(sup.result), sup.rows) : undefined;
  if (membrane) {
    (report[weather] as Record<string, unknown>)['membrane'] = membrane;
    console.log(`${weather} membrane: energy ${membrane.energyKwhPerDay[0].toFixed(0)} -> ${membrane.energyKwhPerDay[1].toFixed(0)} kWh/d, backwash water ${membrane.backwashM3PerDay[0].toFixed(0)} -> ${membrane.backwashM3PerDay[1].toFixed(0)} m3/d, interval 15 -> mean ${membrane.interval.mean.toFixed(1)} min (${membrane.interval.min}-${membrane.interval.max}), ${membrane.interval.reversalsPerDay.toFixed(1)} reversals of 2 min or more per day`);
  }
  const ea = effluentSeries(base);
  const eb = effluentSeries(sup.result);
  const evalRows = (loop: LoopId) => sup.rows.filter((r) => r.loop === loop && r.ts >= sup.result.series.ts[0]! - 60_000);
  const day = (ts: number): number => (ts - Date.UTC(2025, 0, 1)) / 86_400_000;
  const sp = (loop: LoopId) => {
    const rs = evalRows(loop).filter((r) => day(r.ts) >= days - 7);
    return { x: rs.map((r) => day(r.ts)), y: rs.map((r) => r.value) };
  };
  writeFileSync(resolve(svgDir, `${weather}-nh4.svg`), lineChart({ title: `Effluent NH4-N, ${weather} weather`, xLabel: 'day', yLabel: 'g N/m3', limit: 4, series: [
    { name: 'BSM1 default', color: '#888', x: ea.t, y: ea.nh4 }, { name: 'supervisory', color: '#1565c0', x: eb.t, y: eb.nh4 },
  ] }));
  writeFileSync(resolve(svgDir, `${weather}-tn.svg`), lineChart({ title: `Effluent total N, ${weather} weather`, xLabel: 'day', yLabel: 'g N/m3', limit: 18, series: [
    { name: 'BSM1 default', color: '#888', x: ea.t, y: ea.tn }, { name: 'supervisory', color: '#2e7d32', x: eb.t, y: eb.tn },
  ] }));
  const doSp = sp('do');
  writeFileSync(resolve(svgDir, `${weather}-do.svg`), lineChart({ title: `DO setpoint (tank 5), ${weather} weather`, xLabel: 'day', yLabel: 'mg/L', series: [
    { name: 'BSM1 default', color: '#888', x: [days - 7, days], y: [2, 2] }, { name: 'supervisory', color: '#c62828', ...doSp },
  ] }));
  const qr = sp('internal_recycle');
  writeFileSync(resolve(svgDir, `${weather}-recycle.svg`), lineChart({ title: `Internal recycle, ${weather} weather`, xLabel: 'day', yLabel: 'm3/d', series: [
    { name: 'BSM1 nitrate loop', color: '#888', x: ea.t, y: ea.qint }, { name: 'supervisory', color: '#6a1b9a', ...qr },
  ] }));
  const was = sp('was_flow');
  writeFileSync(resolve(svgDir, `${weather}-was.svg`), lineChart({ title: `Waste sludge flow, ${weather} weather`, xLabel: 'day', yLabel: 'm3/d', series: [
    { name: 'BSM1 default', color: '#888', x: [days - 7, days], y: [385, 385] }, { name: 'supervisory', color: '#ef6c00', ...was },
  ] }));
}
writeFileSync(resolve(repoRoot, args.json), `${JSON.stringify(report, null, 2)}\n`);
