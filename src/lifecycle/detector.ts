/**
 * Live figures of an anomaly detector per day of plant time, in a 7-day ring: windows scored, windows
 * the model flagged (its score, or one input beyond its limit for the bundle's persistence; not the
 * stage's sensor checks, which flag every version alike and which its training rate never saw), flag episodes (a flagged window after one that was not), and the
 * operators' verdicts on the stage's anomaly alarm (confirmed, false alarm).
 */

import type { AnomalyRow } from '../contract/rows.js';
import { DAY_MS, RING_DAYS } from './drift.js';

/** Whether the detector version itself flagged the window: the sensor checks flag every version alike, so a version is judged by its own flag (a stored row has only isAnomaly). */
export function ownFlag(row: Pick<AnomalyRow, 'isAnomaly' | 'modelFlag'>): boolean {
  return row.modelFlag ?? row.isAnomaly;
}

export interface DetectorDay {
  /** Day index: floor(event ms / 1 day). */
  day: number;
  windows: number;
  flagged: number;
  episodes: number;
  confirmed: number;
  falseAlarms: number;
}

export interface DetectorFigures {
  windows: number;
  flagged: number;
  /** Share of scored windows flagged (NaN without windows). */
  flagRate: number;
  /** Flag episodes per day over the days that had windows (NaN without windows). */
  flagsPerDay: number;
  confirmed: number;
  falseAlarms: number;
}

export interface DetectorState {
  days: DetectorDay[];
  lastFlagged: boolean;
}

export class DetectorRing {
  private readonly days = new Map<number, DetectorDay>();
  private lastFlagged = false;

  constructor(state?: DetectorState) {
    for (const d of state?.days ?? []) this.days.set(d.day, { ...d });
    this.lastFlagged = state?.lastFlagged ?? false;
  }

  /** One scored window and whether the daemon flagged it. */
  addWindow(eventMs: number, flagged: boolean): void {
    const d = this.dayOf(eventMs);
    if (!d) return;
    d.windows += 1;
    if (flagged) d.flagged += 1;
    if (flagged && !this.lastFlagged) d.episodes += 1;
    this.lastFlagged = flagged;
  }

  addVerdict(eventMs: number, verdict: 'confirmed' | 'false_alarm'): void {
    const d = this.dayOf(eventMs);
    if (!d) return;
    if (verdict === 'confirmed') d.confirmed += 1;
    else d.falseAlarms += 1;
  }

  /** Figures over the `windowDays` days up to and including the day of `nowMs`. */
  figures(nowMs: number, windowDays: number): DetectorFigures {
    const last = Math.floor(nowMs / DAY_MS);
    const sum = { windows: 0, flagged: 0, episodes: 0, confirmed: 0, falseAlarms: 0, days: 0 };
    for (const d of this.days.values()) {
      if (d.day <= last - windowDays || d.day > last) continue;
      sum.windows += d.windows;
      sum.flagged += d.flagged;
      sum.episodes += d.episodes;
      sum.confirmed += d.confirmed;
      sum.falseAlarms += d.falseAlarms;
      if (d.windows > 0) sum.days += 1;
    }
    return {
      windows: sum.windows,
      flagged: sum.flagged,
      flagRate: sum.windows > 0 ? sum.flagged / sum.windows : Number.NaN,
      flagsPerDay: sum.days > 0 ? sum.episodes / sum.days : Number.NaN,
      confirmed: sum.confirmed,
      falseAlarms: sum.falseAlarms,
    };
  }

  toState(): DetectorState {
    return { days: [...this.days.values()].sort((a, b) => a.day - b.day), lastFlagged: this.lastFlagged };
  }

  private dayOf(eventMs: number): DetectorDay | undefined {
    if (!Number.isFinite(eventMs)) return undefined;
    const day = Math.floor(eventMs / DAY_MS);
    let d = this.days.get(day);
    if (d === undefined) {
      d = { day, windows: 0, flagged: 0, episodes: 0, confirmed: 0, falseAlarms: 0 };
      this.days.set(day, d);
      for (const k of [...this.days.keys()]) if (k <= day - RING_DAYS) this.days.delete(k);
    }
    return d;
  }
}
