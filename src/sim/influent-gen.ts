import { N_COMP, SI, SS, XI, XS, XBH, SNH, SND, XND, SALK } from './asm1.js';
import type { InfluentSeries } from './influent.js';
import { createRng } from './rng.js';

/**
 * A synthetic influent for the twin when the BSM1 weather files are not installed: the BSM1 dry-weather
 * means ([REPORT] table 6 and the dry file's averages), a diurnal load curve (night minimum at 04:00,
 * morning and evening peaks), a weekly pattern (lower load at the weekend), seeded rain events that
 * raise the flow and dilute the soluble load with a first flush of particulates, and small noise.
 * Same seed, same series. 14 days of 15 min rows, repeating like the BSM1 files.
 */
export interface GeneratedInfluentOptions {
  readonly seed?: number;
  readonly days?: number;
  /** Mean rain events per week (0 = dry weather only). */
  readonly rainPerWeek?: number;
  /** Day of the week of plant day 0 (0 = Monday). */
  readonly startWeekday?: number;
}

const ROW = N_COMP + 1;
const STEP_DAYS = 1 / 96;
/** Dry-weather means of the BSM1 dry file (g/m3; Q m3/d). */
const MEAN = { SI: 30, SS: 65.2, XI: 45.6, XS: 192.7, XBH: 26.5, SNH: 30.1, SND: 6.5, XND: 9.95, Q: 18_446 };

/** Diurnal factor around 1 (mean 1 over the day) for hour h of the day. */
function diurnal(h: number): number {
  const morning = Math.exp(-(((h - 10) / 2.6) ** 2));
  const evening = 0.7 * Math.exp(-(((h - 20) / 3) ** 2));
  const night = -0.55 * Math.exp(-(((h - 4) / 3.2) ** 2));
  return 0.86 + 0.42 * morning + 0.42 * evening + 0.6 * night;
}

const DAY_MEAN = ((): number => {
  let s = 0;
  for (let i = 0; i < 96; i++) s += diurnal(i / 4);
  return s / 96;
})();

/** Weekday load factor: the weekend brings less industrial and commuter load. */
function weekly(weekday: number): number {
  return weekday === 5 ? 0.9 : weekday === 6 ? 0.86 : 1.04;
}

export function generateInfluent(opts: GeneratedInfluentOptions = {}): InfluentSeries {
  const seed = opts.seed ?? 1;
  const days = opts.days ?? 14;
  const rainPerWeek = opts.rainPerWeek ?? 1.5;
  const startWeekday = opts.startWeekday ?? 0;
  const rng = createRng(seed * 7919 + 17);
  const count = Math.round(days * 96);
  const rain = new Float64Array(count);
  // Rain events: Poisson arrivals, each a few hours of extra flow that rises fast and recedes slowly.
  const events = Math.max(0, Math.round((rainPerWeek * days) / 7 + (rng.next() - 0.5)));
  for (let e = 0; e < events; e++) {
    const start = Math.floor(rng.next() * count);
    const peak = 0.6 + 1.4 * rng.next();
    const lenRows = Math.round((3 + 9 * rng.next()) * 4);
    for (let i = 0; i < lenRows * 3 && start + i < count; i++) {
      const rise = Math.min(1, i / 3);
      const fall = i < lenRows ? 1 : Math.exp(-(i - lenRows) / (lenRows / 2));
      rain[start + i] = Math.max(rain[start + i]!, peak * rise * fall);
    }
  }
  const rows = new Float64Array(count * ROW);
  let firstFlush = 0;
  for (let i = 0; i < count; i++) {
    const t = i * STEP_DAYS;
    const day = Math.floor(t);
    const weekday = (startWeekday + day) % 7;
    const h = (t - day) * 24;
    const load = (diurnal(h) / DAY_MEAN) * weekly(weekday) * (1 + 0.03 * rng.normal());
    const flowDry = MEAN.Q * (0.55 + 0.45 * (diurnal(h) / DAY_MEAN)) * weekly(weekday) * (1 + 0.02 * rng.normal());
    const extra = rain[i]!;
    const q = flowDry + MEAN.Q * extra;
    // Rain dilutes the load carried by the dry flow; the start of an event flushes sewer deposits.
    const dilution = flowDry / q;
    firstFlush = extra > 0 && (i === 0 || rain[i - 1]! < extra) ? Math.min(1, firstFlush + 0.25) : firstFlush * 0.9;
    const particulate = 1 + 0.8 * firstFlush;
    const o = i * ROW;
    rows[o + SI] = MEAN.SI * dilution;
    rows[o + SS] = MEAN.SS * load * dilution;
    rows[o + XI] = MEAN.XI * load * dilution * particulate;
    rows[o + XS] = MEAN.XS * load * dilution * particulate;
    rows[o + XBH] = MEAN.XBH * load * dilution * particulate;
    rows[o + SNH] = MEAN.SNH * (0.6 + 0.4 * load) * dilution;
    rows[o + SND] = MEAN.SND * load * dilution;
    rows[o + XND] = MEAN.XND * load * dilution * particulate;
    rows[o + SALK] = 7;
    rows[o + N_COMP] = q;
  }
  return { name: `generated:${seed}:${rainPerWeek}`, stepDays: STEP_DAYS, rows, count };
}
