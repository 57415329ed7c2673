import { STAGES, type StageId } from '../contract/plant.js';
import type { AlarmEventRow, ReadingRow } from '../contract/rows.js';
import { maxOf, minOf } from '../lib/extent.js';
import { zonedToUtc } from '../mapping/time.js';

/**
 * The regulator's daily report (PRODUCT 4.1 `wwtp-edge report`), as a pure function of one plant day's
 * readings and alarm events from the store and the configured signals and effluent limits. The day is
 * the plant's calendar day in its time zone (`timezone`): 23 or 25 hours when the clocks change.
 */
export interface ReportSignal {
  readonly stage: StageId;
  readonly id: string;
  readonly unit: string;
  readonly periodSec: number;
}

export interface ReportInput {
  readonly site: string;
  /** YYYY-MM-DD, a calendar day in `timezone`. */
  readonly day: string;
  /** IANA time zone of the plant's day (default UTC). */
  readonly timezone?: string | undefined;
  readonly signals: readonly ReportSignal[];
  /** Effluent consent limits, mg/L, by signal id. */
  readonly limits: Readonly<Record<string, number>>;
  /** The day's readings (any order). */
  readonly readings: readonly ReadingRow[];
  readonly alarmEvents: readonly AlarmEventRow[];
}

export interface EffluentFigure {
  readonly signal: string;
  readonly unit: string;
  readonly samples: number;
  /** Flow-weighted daily mean (weights: the flow in effect at each sample); arithmetic without a flow. */
  readonly mean: number;
  readonly weighting: 'flow' | 'time';
  readonly min: number;
  readonly max: number;
  readonly limit: number | null;
  /** Hours the signal stood above its limit (each sample holds until the next, at most two periods). */
  readonly hoursAboveLimit: number | null;
  /** Arithmetic mean per hour of the day from its midnight (`hours` values; null for an hour without samples): the plot's line. */
  readonly hourly: readonly (number | null)[];
}

export interface LoadFigure {
  readonly parameter: string;
  /** kg/d: mean over the samples of flow (m3/d) x concentration (mg/L) / 1000. */
  readonly influentKgPerDay: number | null;
  readonly effluentKgPerDay: number | null;
  /** 1 - out/in, %. */
  readonly removalPct: number | null;
}

export interface RemovalFigure {
  readonly parameter: string;
  readonly from: StageId;
  readonly to: StageId;
  /** 1 - mean(to)/mean(from), %, on the stages' daily mean concentrations. */
  readonly removalPct: number;
}

export interface CompletenessFigure {
  readonly stage: StageId;
  readonly signal: string;
  readonly readings: number;
  /** 86 400 s / the signal's sampling period. */
  readonly expected: number;
  /** readings / expected, at most 1. */
  readonly share: number;
}

export interface DailyReport {
  readonly site: string;
  readonly day: string;
  /** The time zone the day is a calendar day of. */
  readonly timezone: string;
  /** Epoch ms of the day's local midnight and of the next one. */
  readonly from: number;
  readonly to: number;
  /** Hours in the day: 24, or 23 and 25 on the days the clocks change. */
  readonly hours: number;
  /** The flow the effluent figures are weighted by: effluent flow, else influent flow, else none. */
  readonly flowSignal: string | null;
  /** m3 through that flow meter over the day (time-weighted mean m3/d x the day's length in days). */
  readonly volumeM3: number | null;
  readonly effluent: readonly EffluentFigure[];
  readonly loads: readonly LoadFigure[];
  readonly removal: readonly RemovalFigure[];
  /** Alarms raised in the day (transitions to active_unack) by priority. */
  readonly alarms: Readonly<Record<'critical' | 'high' | 'medium' | 'low', number>>;
  readonly completeness: readonly CompletenessFigure[];
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const FLOW = 'flow';

/** A calendar day in `zone` as epoch ms, from its midnight to the next one; undefined for no date. */
export function dayBounds(day: string, zone = 'UTC'): { from: number; to: number } | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const midnight = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(midnight) || new Date(midnight).toISOString().slice(0, 10) !== day) return undefined;
  return { from: zonedToUtc(midnight, zone), to: zonedToUtc(midnight + DAY_MS, zone) };
}

type Series = readonly { readonly ts: number; readonly value: number }[];

/** The value in effect at ts: the last sample at or before it, else the first one after. */
export function valueAt(series: Series, ts: number): number | undefined {
  if (series.length === 0) return undefined;
  let lo = 0;
  let hi = series.length - 1;
  if ((series[0]?.ts ?? Infinity) > ts) return series[0]?.value;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((series[mid]?.ts ?? Infinity) <= ts) lo = mid;
    else hi = mid - 1;
  }
  return series[lo]?.value;
}

/** Each sample holds until the next one, at most maxHoldMs (and not past `to`). */
function holds(series: Series, to: number, maxHoldMs: number): number[] {
  return series.map((s, i) => Math.max(0, Math.min((series[i + 1]?.ts ?? to) - s.ts, maxHoldMs, to - s.ts)));
}

function timeMean(series: Series, to: number, maxHoldMs: number): number | undefined {
  const w = holds(series, to, maxHoldMs);
  const total = w.reduce((a, b) => a + b, 0);
  if (total <= 0) return series.length > 0 ? series.reduce((a, s) => a + s.value, 0) / series.length : undefined;
  return series.reduce((a, s, i) => a + s.value * (w[i] ?? 0), 0) / total;
}

function flowWeighted(series: Series, flow: Series | undefined): { mean: number; weighting: 'flow' | 'time' } {
  if (flow && flow.length > 0) {
    let num = 0;
    let den = 0;
    for (const s of series) {
      const q = valueAt(flow, s.ts) ?? 0;
      num += s.value * q;
      den += q;
    }
    if (den > 0) return { mean: num / den, weighting: 'flow' };
  }
  return { mean: series.reduce((a, s) => a + s.value, 0) / series.length, weighting: 'time' };
}

function load(series: Series | undefined, flow: Series | undefined): number | null {
  if (!series || series.length === 0 || !flow || flow.length === 0) return null;
  return series.reduce((a, s) => a + (s.value * (valueAt(flow, s.ts) ?? 0)) / 1000, 0) / series.length;
}

function hourlyMeans(series: Series, from: number, hours: number): (number | null)[] {
  const sum = new Array<number>(hours).fill(0);
  const n = new Array<number>(hours).fill(0);
  for (const x of series) {
    const h = Math.floor((x.ts - from) / HOUR_MS);
    if (h < 0 || h >= hours) continue;
    sum[h] = (sum[h] ?? 0) + x.value;
    n[h] = (n[h] ?? 0) + 1;
  }
  return sum.map((v, h) => ((n[h] ?? 0) > 0 ? v / (n[h] ?? 1) : null));
}

const pct = (out: number, into: number): number | null => (into > 0 ? (1 - out / into) * 100 : null);

export function computeReport(input: ReportInput): DailyReport {
  const timezone = input.timezone ?? 'UTC';
  const bounds = dayBounds(input.day, timezone);
  if (!bounds) throw new Error(`bad day "${input.day}": YYYY-MM-DD`);
  const { from, to } = bounds;
  const dayMs = to - from;
  const hours = Math.round(dayMs / HOUR_MS);
  const series = new Map<string, { ts: number; value: number }[]>();
  for (const r of input.readings) {
    if (r.ts < from || r.ts >= to || !Number.isFinite(r.value)) continue;
    const key = `${r.stage}.${r.signal}`;
    const list = series.get(key) ?? [];
    list.push({ ts: r.ts, value: r.value });
    series.set(key, list);
  }
  for (const list of series.values()) list.sort((a, b) => a.ts - b.ts);
  const periodOf = new Map(input.signals.map((s) => [`${s.stage}.${s.id}`, s.periodSec]));
  const holdOf = (key: string): number => 2 * (periodOf.get(key) ?? 60) * 1000;

  const flowKey = series.has(`effluent.${FLOW}`) ? `effluent.${FLOW}` : series.has(`influent.${FLOW}`) ? `influent.${FLOW}` : null;
  const flow = flowKey ? series.get(flowKey) : undefined;
  const meanFlow = flow && flowKey ? timeMean(flow, to, holdOf(flowKey)) : undefined;

  const effluent: EffluentFigure[] = input.signals
    .filter((s) => s.stage === 'effluent' && s.id !== FLOW && (series.get(`effluent.${s.id}`)?.length ?? 0) > 0)
    .map((s) => {
      const list = series.get(`effluent.${s.id}`) ?? [];
      const { mean, weighting } = flowWeighted(list, flow);
      const limit = input.limits[s.id];
      const hold = holds(list, to, holdOf(`effluent.${s.id}`));
      const above = limit === undefined ? null : list.reduce((a, x, i) => a + (x.value > limit ? (hold[i] ?? 0) : 0), 0) / 3_600_000;
      return {
        signal: s.id,
        unit: s.unit,
        samples: list.length,
        mean,
        weighting,
        min: minOf(list.map((x) => x.value)),
        max: maxOf(list.map((x) => x.value)),
        limit: limit ?? null,
        hoursAboveLimit: above,
        hourly: hourlyMeans(list, from, hours),
      };
    });

  const inflow = series.get(`influent.${FLOW}`);
  const outflow = series.get(`effluent.${FLOW}`) ?? inflow;
  const parameters = [...new Set(input.signals.filter((s) => (s.stage === 'influent' || s.stage === 'effluent') && s.id !== FLOW && s.unit === 'mg/L').map((s) => s.id))];
  const loads: LoadFigure[] = parameters
    .map((p) => {
      const into = load(series.get(`influent.${p}`), inflow);
      const out = load(series.get(`effluent.${p}`), outflow);
      return { parameter: p, influentKgPerDay: into, effluentKgPerDay: out, removalPct: into !== null && out !== null ? pct(out, into) : null };
    })
    .filter((l) => l.influentKgPerDay !== null || l.effluentKgPerDay !== null);

  const removal: RemovalFigure[] = [];
  const concentrationIds = [...new Set(input.signals.filter((s) => s.unit === 'mg/L').map((s) => s.id))];
  for (const p of concentrationIds) {
    const stages = STAGES.filter((stage) => (series.get(`${stage}.${p}`)?.length ?? 0) > 0);
    const mean = (stage: StageId): number => {
      const list = series.get(`${stage}.${p}`) ?? [];
      return list.reduce((a, x) => a + x.value, 0) / list.length;
    };
    for (let i = 1; i < stages.length; i += 1) {
      const a = stages[i - 1];
      const b = stages[i];
      if (!a || !b) continue;
      const r = pct(mean(b), mean(a));
      if (r !== null) removal.push({ parameter: p, from: a, to: b, removalPct: r });
    }
    const first = stages[0];
    const last = stages[stages.length - 1];
    if (stages.length > 2 && first && last) {
      const r = pct(mean(last), mean(first));
      if (r !== null) removal.push({ parameter: p, from: first, to: last, removalPct: r });
    }
  }

  const alarms = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const e of input.alarmEvents) if (e.state === 'active_unack' && e.ts >= from && e.ts < to) alarms[e.severity] += 1;

  const completeness: CompletenessFigure[] = input.signals.map((s) => {
    const readings = series.get(`${s.stage}.${s.id}`)?.length ?? 0;
    const expected = dayMs / 1000 / s.periodSec;
    return { stage: s.stage, signal: s.id, readings, expected, share: Math.min(1, readings / expected) };
  });

  return {
    site: input.site,
    day: input.day,
    timezone,
    from,
    to,
    hours,
    flowSignal: flowKey,
    volumeM3: meanFlow === undefined ? null : (meanFlow * dayMs) / DAY_MS,
    effluent,
    loads,
    removal,
    alarms,
    completeness,
  };
}
