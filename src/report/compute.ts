import { STAGES, type StageId } from '../contract/plant.js';
import type { AlarmEventRow } from '../contract/rows.js';
import { zonedToUtc } from '../mapping/time.js';
import { FlowSeries, SignalDay, type Sample } from './signal-day.js';

/**
 * The regulator's daily report (PRODUCT 4.1 `wwtp-edge report`), as a function of one plant day's
 * readings and alarm events from the store and the configured signals and effluent limits. The day is
 * the plant's calendar day in its time zone (`timezone`): 23 or 25 hours when the clocks change.
 */
export interface ReportSignal {
  readonly stage: StageId;
  readonly id: string;
  readonly unit: string;
  readonly periodSec: number;
}

/** One signal's readings of the day in time order (finite values of good or uncertain quality, within the day), a page at a time. */
export type SignalPages = (stage: StageId, signal: string) => AsyncIterable<readonly Sample[]>;

export interface ReportInput {
  readonly site: string;
  /** YYYY-MM-DD, a calendar day in `timezone`. */
  readonly day: string;
  /** IANA time zone of the plant's day (default UTC). */
  readonly timezone?: string | undefined;
  readonly signals: readonly ReportSignal[];
  /** Effluent consent limits, mg/L, by signal id. */
  readonly limits: Readonly<Record<string, number>>;
  /** The day's readings of a configured signal; each signal is read once. */
  readonly readings: SignalPages;
  /** How many of a signal's readings of the day `readings` left out (quality bad, not finite), once they were read. */
  readonly leftOut?: ((stage: StageId, signal: string) => number) | undefined;
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
  /** Readings of good or uncertain quality: the ones every figure is made of. */
  readonly readings: number;
  /** Readings of the day marked bad (left out of every figure). */
  readonly bad: number;
  /** The day's length in seconds / the signal's sampling period. */
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

async function collect(pages: AsyncIterable<readonly Sample[]>): Promise<Sample[]> {
  const all: Sample[] = [];
  for await (const page of pages) for (const x of page) all.push(x);
  return all;
}

const pct = (out: number, into: number): number | null => (into > 0 ? (1 - out / into) * 100 : null);

/**
 * The report from one pass over each configured signal's day: the flow meters' days are held (the
 * flow in effect at each sample weights it), every other signal is folded into a SignalDay as its
 * pages come, so memory does not grow with the day's readings.
 */
export async function computeReport(input: ReportInput): Promise<DailyReport> {
  const timezone = input.timezone ?? 'UTC';
  const bounds = dayBounds(input.day, timezone);
  if (!bounds) throw new Error(`bad day "${input.day}": YYYY-MM-DD`);
  const { from, to } = bounds;
  const dayMs = to - from;
  const hours = Math.round(dayMs / HOUR_MS);
  const key = (s: { stage: string; id: string }): string => `${s.stage}.${s.id}`;
  const configured = new Map(input.signals.map((s) => [key(s), s]));
  const holdOf = (s: ReportSignal): number => 2 * s.periodSec * 1000;

  /** The flow meters' days, read once: they weight the other signals and are folded like them. */
  const flowSamples = new Map<string, Sample[]>();
  const flowOf = async (stage: StageId): Promise<FlowSeries | undefined> => {
    if (!configured.has(`${stage}.${FLOW}`)) return undefined;
    const samples = await collect(input.readings(stage, FLOW));
    flowSamples.set(`${stage}.${FLOW}`, samples);
    return samples.length > 0 ? FlowSeries.of(samples) : undefined;
  };
  const inflow = await flowOf('influent');
  const effluentFlow = await flowOf('effluent');
  const flowKey = effluentFlow ? `effluent.${FLOW}` : inflow ? `influent.${FLOW}` : null;
  /** The effluent's flow: its own meter, else the influent's. */
  const outflow = effluentFlow ?? inflow;

  const days = new Map<string, SignalDay>();
  for (const s of input.signals) {
    const concentration = s.unit === 'mg/L' && s.id !== FLOW;
    const day = new SignalDay({
      from, to, hours, maxHoldMs: holdOf(s),
      limit: s.stage === 'effluent' ? input.limits[s.id] : undefined,
      weightFlow: s.stage === 'effluent' && s.id !== FLOW ? outflow : undefined,
      loadFlow: concentration ? (s.stage === 'influent' ? inflow : s.stage === 'effluent' ? outflow : undefined) : undefined,
    });
    const held = flowSamples.get(key(s));
    if (held) for (const x of held) day.add(x);
    else for await (const page of input.readings(s.stage, s.id)) for (const x of page) day.add(x);
    day.finish();
    days.set(key(s), day);
  }
  const dayOf = (stage: string, id: string): SignalDay | undefined => {
    const d = days.get(`${stage}.${id}`);
    return d && d.n > 0 ? d : undefined;
  };

  const flowDay = flowKey ? days.get(flowKey) : undefined;
  const meanFlow = flowDay?.timeMean;

  const effluent: EffluentFigure[] = input.signals
    .filter((s) => s.stage === 'effluent' && s.id !== FLOW && dayOf('effluent', s.id))
    .map((s) => {
      const d = dayOf('effluent', s.id) as SignalDay;
      const { mean, weighting } = d.flowWeighted;
      return {
        signal: s.id,
        unit: s.unit,
        samples: d.n,
        mean,
        weighting,
        min: d.min,
        max: d.max,
        limit: input.limits[s.id] ?? null,
        hoursAboveLimit: d.hoursAboveLimit,
        hourly: d.hourly,
      };
    });

  const parameters = [...new Set(input.signals.filter((s) => (s.stage === 'influent' || s.stage === 'effluent') && s.id !== FLOW && s.unit === 'mg/L').map((s) => s.id))];
  const loads: LoadFigure[] = parameters
    .map((p) => {
      const into = dayOf('influent', p)?.load ?? null;
      const out = dayOf('effluent', p)?.load ?? null;
      return { parameter: p, influentKgPerDay: into, effluentKgPerDay: out, removalPct: into !== null && out !== null ? pct(out, into) : null };
    })
    .filter((l) => l.influentKgPerDay !== null || l.effluentKgPerDay !== null);

  const removal: RemovalFigure[] = [];
  const concentrationIds = [...new Set(input.signals.filter((s) => s.unit === 'mg/L').map((s) => s.id))];
  for (const p of concentrationIds) {
    const stages = STAGES.filter((stage) => dayOf(stage, p) !== undefined);
    const mean = (stage: StageId): number => (dayOf(stage, p) as SignalDay).mean;
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
    const readings = days.get(key(s))?.n ?? 0;
    const expected = dayMs / 1000 / s.periodSec;
    return { stage: s.stage, signal: s.id, readings, bad: input.leftOut?.(s.stage, s.id) ?? 0, expected, share: Math.min(1, readings / expected) };
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
