import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { STAGES } from '../contract/plant.js';

export const SENSOR_FAULTS = ['sensor_stuck', 'sensor_drift', 'sensor_bias', 'sensor_spike', 'noise_burst', 'sensor_dropout'] as const;
export const PROCESS_FAULTS = [
  'blower_failure', 'toxic_load', 'shock_load', 'nitrification_inhibition', 'sludge_bulking', 'membrane_fouling', 'dosing_pump_failure',
  'temperature_change',
] as const;
/** The twin's water temperature without a temperature_change, degC (BSM1's). */
export const BASE_TEMPERATURE = 15;
/**
 * Arrhenius factors per degC of the growth rates (ASM1, Henze et al. 1987: muH 3.0 -> 6.0 /d and muA
 * 0.3 -> 0.8 /d from 10 to 20 degC).
 */
const THETA_MU_H = 2 ** (1 / 10);
const THETA_MU_A = (0.8 / 0.3) ** (1 / 10);
export type FaultKind = (typeof SENSOR_FAULTS)[number] | (typeof PROCESS_FAULTS)[number];

/** Plant time given as days (number) or with a unit: "90m", "6h", "2.5d". */
const duration = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?(m|h|d)$/)]).transform((v) => {
  if (typeof v === 'number') return v;
  const n = Number(v.slice(0, -1));
  return v.endsWith('m') ? n / 1440 : v.endsWith('h') ? n / 24 : n;
});

export const faultSchema = z.object({
  kind: z.enum([...SENSOR_FAULTS, ...PROCESS_FAULTS]),
  stage: z.enum(STAGES),
  signal: z.string().optional(),
  start: duration,
  end: duration,
  /** Kind-specific size: bias/spike offset in signal units, drift per day, noise sigma, factor for process faults, degC for temperature_change. */
  magnitude: z.number().optional(),
  /** temperature_change: how long the water takes to reach the new temperature, linearly from start (default: at once). */
  ramp: duration.optional(),
}).strict().refine((f) => f.end > f.start, { message: 'end must be after start', path: ['end'] })
  .refine((f) => !(SENSOR_FAULTS as readonly string[]).includes(f.kind) || f.signal !== undefined, { message: 'sensor faults name a signal', path: ['signal'] });

export const scenarioSchema = z.object({ faults: z.array(faultSchema) }).strict();
export type Fault = z.infer<typeof faultSchema>;

export function parseScenario(text: string): Fault[] {
  return scenarioSchema.parse(parse(text)).faults;
}
export function loadScenario(file: string): Fault[] {
  return parseScenario(readFileSync(file, 'utf8'));
}

/** One line of the ground-truth JSONL written by every run. */
export interface GroundTruth { kind: FaultKind; stage: string; signal: string | null; start: number; end: number }

export function groundTruth(faults: readonly Fault[], epochMs: number): GroundTruth[] {
  return faults.map((f) => ({
    kind: f.kind, stage: f.stage, signal: f.signal ?? null,
    start: Math.round(epochMs + f.start * 86_400_000), end: Math.round(epochMs + f.end * 86_400_000),
  }));
}

export const active = (f: Fault, t: number): boolean => t >= f.start && t < f.end;

/** Process fault effect on the plant, multipliers in [0, 1] or load factors > 1. */
export interface ProcessEffect {
  aerationCap: number; muHFactor: number; muAFactor: number; settlingFactor: number;
  loadFactor: number; foulingFactor: number; dosingAvailable: boolean;
  /** Water temperature, degC. */
  temperature: number;
}

export function processEffect(faults: readonly Fault[], t: number): ProcessEffect {
  const e: ProcessEffect = { aerationCap: 1, muHFactor: 1, muAFactor: 1, settlingFactor: 1, loadFactor: 1, foulingFactor: 1, dosingAvailable: true, temperature: BASE_TEMPERATURE };
  for (const f of faults) {
    if (!active(f, t)) continue;
    const m = f.magnitude;
    switch (f.kind) {
      case 'blower_failure': e.aerationCap *= m ?? 0.4; break;
      case 'toxic_load': e.muHFactor *= m ?? 0.5; e.muAFactor *= m ?? 0.5; break;
      case 'nitrification_inhibition': e.muAFactor *= m ?? 0.3; break;
      case 'shock_load': e.loadFactor *= m ?? 2; break;
      case 'sludge_bulking': e.settlingFactor *= m ?? 0.35; break;
      case 'membrane_fouling': e.foulingFactor *= m ?? 8; break;
      case 'dosing_pump_failure': e.dosingAvailable = false; break;
      case 'temperature_change': {
        const ramp = f.ramp ?? 0;
        e.temperature += (m ?? -8) * (ramp > 0 ? Math.min(1, (t - f.start) / ramp) : 1);
        break;
      }
      default: break;
    }
  }
  const dT = e.temperature - BASE_TEMPERATURE;
  if (dT !== 0) {
    e.muHFactor *= THETA_MU_H ** dT;
    e.muAFactor *= THETA_MU_A ** dT;
  }
  return e;
}

/** Sensor fault state per signal: stuck value and a seeded draw for spikes and bursts. */
export function applySensorFaults(
  faults: readonly Fault[], key: string, t: number, value: number, span: number, normal: () => number,
  stuck: Map<string, number>,
): number | undefined {
  let v = value;
  const own = faults.filter((f) => f.signal !== undefined && `${f.stage}/${f.signal}` === key);
  // The held value belongs to the signal, not to one fault: only when no stuck fault on it is active
  // may it go, or an inactive second stuck fault would clear what the active one holds.
  if (!own.some((f) => f.kind === 'sensor_stuck' && active(f, t))) stuck.delete(key);
  for (const f of own) {
    if (!active(f, t)) continue;
    switch (f.kind) {
      case 'sensor_stuck': {
        const held = stuck.get(key);
        if (held === undefined) stuck.set(key, v); else v = held;
        break;
      }
      case 'sensor_drift': v += (f.magnitude ?? 0.1 * span) * (t - f.start); break;
      case 'sensor_bias': v += f.magnitude ?? 0.1 * span; break;
      case 'sensor_spike': v += (f.magnitude ?? 0.3 * span) * (normal() > 0 ? 1 : -1); break;
      case 'noise_burst': v += (f.magnitude ?? 0.05 * span) * normal(); break;
      case 'sensor_dropout': return undefined;
      default: break;
    }
  }
  return v;
}
