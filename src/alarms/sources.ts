import type { StageId } from '../contract/plant.js';
import type { AlarmCondition, PlantWindow } from '../contract/ports.js';
import type { PredictionRow } from '../contract/rows.js';
import type { AlarmsConfig } from '../config/sections/alarms.js';
import type { SignalConfig } from '../config/sections/plant.js';

/** What a source reports for one evaluation: conditions present, and ids of conditions gone. */
export interface SourceReport {
  readonly present: readonly AlarmCondition[];
  readonly absent: readonly string[];
}

export const staleId = (stage: StageId, signal: string): string => `stale.${stage}.${signal}`;
export const limitId = (stage: StageId, signal: string): string => `limit.${stage}.${signal}`;
export const predictedId = (stage: StageId, signal: string): string => `predicted.${stage}.${signal}`;

/**
 * Built-in sensor source over one PlantWindow: stale signals (flagged stale by the windows, or seen before
 * and now without data) and process limits (window mean outside [low, high], with a deadband of
 * deadbandFraction of the signal's range for clearing so a value at the limit does not chatter).
 */
export function sensorReport(
  plant: PlantWindow,
  signals: readonly SignalConfig[],
  limits: AlarmsConfig['limits'],
  deadbandFraction: number,
  seen: ReadonlySet<string>,
  isPresent: (id: string) => boolean,
): SourceReport & { seen: readonly string[] } {
  const present: AlarmCondition[] = [];
  const absent: string[] = [];
  const seenNow: string[] = [];
  for (const s of signals) {
    const id = staleId(s.stage, s.id);
    const f = plant.stages[s.stage]?.signals[s.id];
    if (f) seenNow.push(`${s.stage}/${s.id}`);
    const known = f !== undefined || seen.has(`${s.stage}/${s.id}`);
    if (!known) continue;
    if (!f || f.stale) {
      present.push({ id, severity: 'medium', stage: s.stage, signal: s.id, message: `${s.description ?? s.id} (${s.stage}) has no fresh readings` });
    } else {
      absent.push(id);
    }
  }
  for (const l of limits) {
    const id = limitId(l.stage, l.signal);
    const f = plant.stages[l.stage]?.signals[l.signal];
    if (!f || !Number.isFinite(f.mean)) continue;
    const cfg = signals.find((s) => s.stage === l.stage && s.id === l.signal);
    const band = cfg ? deadbandFraction * (cfg.max - cfg.min) : 0;
    const was = isPresent(id);
    const high = l.high !== undefined && f.mean > l.high - (was ? band : 0);
    const low = l.low !== undefined && f.mean < l.low + (was ? band : 0);
    if (high || low) {
      const bound = high ? `above ${l.high}` : `below ${l.low}`;
      present.push({ id, severity: l.severity, stage: l.stage, signal: l.signal, message: `${l.stage}/${l.signal} ${f.mean.toFixed(2)} ${cfg?.unit ?? ''} ${bound}`.replace('  ', ' ') });
    } else {
      absent.push(id);
    }
  }
  return { present, absent, seen: seenNow };
}

/** Predicted effluent above its consent limit (latest prediction per signal); deadband 5 % of the limit. */
export function predictionReport(predictions: readonly PredictionRow[], effluentLimits: Readonly<Record<string, number>>, isPresent: (id: string) => boolean): SourceReport {
  const latest = new Map<string, PredictionRow>();
  for (const p of predictions) {
    if (p.stage !== 'effluent' || effluentLimits[p.signal] === undefined || !Number.isFinite(p.value)) continue;
    const prev = latest.get(p.signal);
    if (!prev || p.ts > prev.ts) latest.set(p.signal, p);
  }
  const present: AlarmCondition[] = [];
  const absent: string[] = [];
  for (const [signal, p] of latest) {
    const limit = effluentLimits[signal] as number;
    const id = predictedId('effluent', signal);
    const threshold = isPresent(id) ? limit * 0.95 : limit;
    if (p.value > threshold) {
      present.push({ id, severity: 'high', stage: 'effluent', signal, message: `effluent ${signal} predicted ${p.value.toFixed(2)} ${p.unit} in ${p.horizonMin} min, limit ${limit} (${p.model})` });
    } else {
      absent.push(id);
    }
  }
  return { present, absent };
}
