import type { LifecycleConfig } from '../config/sections/lifecycle.js';
import type { SkillFigures } from './skill.js';

const DAY_MS = 86_400_000;

/** What the triggers judge for one model version. */
export interface TriggerInput {
  /** Held-out metrics from the manifest (e.g. mape, r2). */
  heldOut: Readonly<Record<string, number>>;
  /** 7-day live skill per target/horizon key. */
  skill7d: Readonly<Record<string, SkillFigures>>;
  /** 7-day PSI, sample count and plant time covered (ms) per input signal. */
  drift7d: Readonly<Record<string, { n: number; psi: number; spanMs?: number }>>;
  /**
   * When the version was activated on this site (plant ms: the last window's end at its activation row,
   * else the first window after it), if known. Not the bundle's training time: a shipped bundle trained
   * months ago is new to the plant on the day it starts.
   */
  activatedAtMs?: number;
  nowMs: number;
  /** Windows seen since the version was activated (or since the daemon started with it). */
  newWindows: number;
  /** Alarms of the model operators marked false_alarm over 7 days. */
  falseAlarms7d: number;
}

export interface TriggerOutcome {
  trigger: 'skill' | 'drift' | 'schedule' | 'new_windows' | 'false_alarms';
  /** One line: "retraining requested: ..." */
  reason: string;
  /** Inputs that moved (drift only). */
  inputs?: string[];
}

/**
 * The held-out figure a live key (`stage.signal@horizonMin`) is judged against: the manifest's
 * `name.stage.signal@+<h>m` (train's per target and horizon label), `name.signal@h`, else `name.signal`
 * (train's per target signal), else the bundle's worst (`mapeMax`, `r2Min`), else a plain `name`.
 */
export function heldOutFor(metrics: Readonly<Record<string, number>>, name: 'mape' | 'r2', key: string): number | undefined {
  const [target = '', horizon] = key.split('@');
  const signal = target.split('.').slice(1).join('.');
  const lower = new Map(Object.entries(metrics).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => [k.toLowerCase(), v]));
  const worst = name === 'mape' ? 'mapemax' : 'r2min';
  for (const candidate of [`${name}.${target}@+${horizon ?? ''}m`, `${name}.${signal}@${horizon ?? ''}`, `${name}.${signal}`, worst, name]) {
    const v = lower.get(candidate.toLowerCase());
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Whether an input's 7-day figures may be judged: enough live values, over at least `drift.minDays` of plant
 * time (part of a day of a diurnal signal, such as the hours after a start, is not its distribution).
 */
export function driftJudged(config: LifecycleConfig, d: { n: number; spanMs?: number }): boolean {
  return d.n >= config.drift.minSamples && (d.spanMs ?? Number.POSITIVE_INFINITY) >= config.drift.minDays * DAY_MS;
}

/** The triggers that fire now, each with its reason; none when the lifecycle is off. */
export function evaluateTriggers(config: LifecycleConfig, input: TriggerInput): TriggerOutcome[] {
  if (!config.enabled) return [];
  const out: TriggerOutcome[] = [];
  if (config.skill.enabled) {
    for (const [key, f] of Object.entries(input.skill7d)) {
      if (f.n < config.skill.minSamples) continue;
      const mape = heldOutFor(input.heldOut, 'mape', key);
      const r2 = heldOutFor(input.heldOut, 'r2', key);
      if (mape !== undefined && Number.isFinite(f.mape) && f.mape > mape * (1 + config.skill.mapeRise)) {
        out.push({ trigger: 'skill', reason: `retraining requested: ${key} 7-day MAPE ${f.mape.toFixed(2)} % above held-out ${mape.toFixed(2)} % by more than ${(config.skill.mapeRise * 100).toFixed(0)} %` });
      } else if (r2 !== undefined && Number.isFinite(f.r2) && f.r2 < r2 - config.skill.r2Drop) {
        out.push({ trigger: 'skill', reason: `retraining requested: ${key} 7-day R2 ${f.r2.toFixed(3)} more than ${config.skill.r2Drop} below held-out ${r2.toFixed(3)}` });
      }
    }
  }
  if (config.drift.enabled) {
    const moved = Object.entries(input.drift7d)
      .filter(([, d]) => driftJudged(config, d) && d.psi > config.drift.psi)
      .sort((a, b) => b[1].psi - a[1].psi);
    if (moved.length > 0) {
      const names = moved.map(([k]) => k);
      out.push({ trigger: 'drift', inputs: names, reason: `retraining requested: inputs drifted over 7 days (PSI > ${config.drift.psi}): ${moved.map(([k, d]) => `${k} ${d.psi.toFixed(2)}`).join(', ')}` });
    }
  }
  if (config.schedule.enabled && input.activatedAtMs !== undefined && input.nowMs - input.activatedAtMs >= config.schedule.days * DAY_MS) {
    out.push({ trigger: 'schedule', reason: `retraining requested: active on this site for ${((input.nowMs - input.activatedAtMs) / DAY_MS).toFixed(1)} days (schedule ${config.schedule.days} days)` });
  }
  if (config.newWindows.enabled && input.newWindows >= config.newWindows.windows) {
    out.push({ trigger: 'new_windows', reason: `retraining requested: ${input.newWindows} new windows since training (threshold ${config.newWindows.windows})` });
  }
  if (config.falseAlarms.enabled && input.falseAlarms7d >= config.falseAlarms.count) {
    out.push({ trigger: 'false_alarms', reason: `retraining requested: operators marked ${input.falseAlarms7d} alarms false over 7 days (threshold ${config.falseAlarms.count})` });
  }
  return out;
}
