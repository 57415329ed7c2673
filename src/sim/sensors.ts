import type { SignalConfig } from '../config/schema.js';
import { applySensorFaults, type Fault } from './faults.js';
import { createRng } from './rng.js';
import { SIGNAL_SOURCES, sensorDelayMin, sensorSigma, type PlantTruth } from './signals.js';

/** One configured signal with its twin counterpart and its sensor's behaviour. */
interface Channel {
  key: string; stage: string; id: string; unit: string; min: number; max: number;
  periodMin: number; delayMin: number; source: (c: PlantTruth) => number;
  history: Float64Array; head: number;
}

export interface Reading { stage: string; signal: string; unit: string; value: number }

/** Configured signals that the twin cannot produce (must be empty). */
export function unmappedSignals(signals: readonly Pick<SignalConfig, 'stage' | 'id'>[]): string[] {
  return signals.map((s) => `${s.stage}/${s.id}`).filter((k) => !(k in SIGNAL_SOURCES));
}

/**
 * The plant's field instruments: each configured signal is read from the twin every minute, delayed
 * (analyzers), sampled at its configured period, given seeded noise and faults, and clipped to its
 * measuring range.
 */
export class SensorLayer {
  private readonly channels: Channel[];
  private readonly rng;
  private readonly stuck = new Map<string, number>();
  readonly latest = new Map<string, number>();

  constructor(signals: readonly SignalConfig[], seed: number, private readonly faults: readonly Fault[], private readonly noise = true) {
    const missing = unmappedSignals(signals);
    if (missing.length > 0) throw new Error(`plant twin has no counterpart for configured signal(s): ${missing.join(', ')}`);
    this.rng = createRng(seed ^ 0x5eed);
    this.channels = signals.map((s) => {
      const delayMin = sensorDelayMin(s.id);
      return {
        key: `${s.stage}/${s.id}`, stage: s.stage, id: s.id, unit: s.unit, min: s.min, max: s.max,
        periodMin: Math.max(1, Math.round(s.periodSec / 60)), delayMin, source: SIGNAL_SOURCES[`${s.stage}/${s.id}`]!,
        history: new Float64Array(delayMin + 1), head: 0,
      };
    });
  }

  /** Called once per plant minute (tMin since start); returns the readings due at that minute. */
  read(truth: PlantTruth, tMin: number): Reading[] {
    const due: Reading[] = [];
    const normal = (): number => this.rng.normal();
    for (const ch of this.channels) {
      const value = ch.source(truth);
      ch.history[ch.head] = value;
      const oldest = tMin >= ch.delayMin ? ch.history[(ch.head + 1) % ch.history.length]! : ch.history[0]!;
      ch.head = (ch.head + 1) % ch.history.length;
      if (tMin % ch.periodMin !== 0) continue;
      const noisy = this.noise && ch.unit !== 'state' ? oldest + sensorSigma(oldest, ch.min, ch.max) * normal() : oldest;
      const faulted = applySensorFaults(this.faults, ch.key, truth.t, noisy, ch.max - ch.min, normal, this.stuck);
      if (faulted === undefined || !Number.isFinite(faulted)) { this.latest.delete(ch.key); continue; }
      const v = Math.min(ch.max, Math.max(ch.min, faulted));
      this.latest.set(ch.key, v);
      due.push({ stage: ch.stage, signal: ch.id, unit: ch.unit, value: v });
    }
    return due;
  }

  /** The last reading of every signal, keyed `stage/signal`. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.latest);
  }
}
