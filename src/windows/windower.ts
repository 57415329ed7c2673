import type { SignalConfig } from '../config/sections/plant.js';
import type { WindowsConfig } from '../config/sections/windows.js';
import { STAGES, type StageId } from '../contract/plant.js';
import type { SignalFeatures, StageWindow } from '../contract/ports.js';
import type { Reading } from '../contract/reading.js';
import { PlantEventTime } from './event-time.js';
import { signalFeatures, type GapRules, type Sample } from './features.js';
import { firstEndHolding, lastEndAtOrBefore, lastEndHolding, type WindowGrid } from './grid.js';

/** Why a reading was left out of the windows (it is stored all the same). */
export type DropReason = 'unknown_signal' | 'not_finite' | 'bad_quality' | 'duplicate';

export interface WindowHooks {
  /** A reading older than every open window (past the allowed lateness): counted, not windowed. */
  readonly onLate?: (reading: Reading, behindWatermarkMs: number) => void;
  readonly onDropped?: (reading: Reading, reason: DropReason) => void;
  /** A reading held out of the windows: too far ahead of the plant's event time, not (yet) corroborated. */
  readonly onAhead?: (reading: Reading, aheadMs: number) => void;
  /** A held reading given up to keep the hold bounded: stored, never windowed. */
  readonly onAheadEvicted?: (reading: Reading) => void;
  /** Windows without any reading skipped per stage after a jump in event time. */
  readonly onIdleSkipped?: (windows: number) => void;
}

/** The slice of the config the windows need. */
export interface WindowingConfig {
  readonly windows: WindowsConfig;
  readonly signals: readonly SignalConfig[];
}

interface SignalState {
  readonly id: string;
  readonly periodMs: number;
  /** Readings not older than the earliest open window, sorted by ts, one per ts. */
  readonly buffer: Sample[];
  /** The last reading before the buffer. */
  carry: Sample | undefined;
}

interface StageState {
  readonly stage: StageId;
  readonly signals: readonly SignalState[];
}

/** The stages that have configured signals, in flow order: the stages that produce windows. */
export function stagesWithSignals(signals: readonly SignalConfig[]): StageId[] {
  return STAGES.filter((stage) => signals.some((s) => s.stage === stage));
}

/** Index of the first sample with ts >= t. */
function lowerBound(samples: readonly Sample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((samples[mid]?.ts ?? Infinity) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Event-time windows of every stage, as a state machine: `push` a reading, get the windows it closed.
 * The watermark (the plant's event time minus the allowed lateness) is shared by all stages, so a
 * silent stage still gets its (empty, quality 0) windows while other stages report. A window closes
 * once the watermark reaches its end; a reading arriving before that is merged, whatever its order.
 * Only readings of open windows are held, plus one carried reading per signal. The event time is
 * the latest reading's, except that one stamped far ahead waits for other signals to agree
 * (PlantEventTime): a lone stray reading never makes the rest of the plant late.
 */
export class StageWindower {
  private readonly grid: WindowGrid;
  private readonly latenessMs: number;
  private readonly rules: GapRules;
  private readonly maxIdleWindows: number;
  private readonly stages: readonly StageState[];
  private readonly bySignal = new Map<string, SignalState>();
  private readonly eventTime: PlantEventTime;
  private maxTs = -Infinity;
  private nextEnd: number | undefined;
  private closedAny = false;
  /** The earliest window end still to come (after a restart: one slide past the last stored window). */
  private firstEnd = -Infinity;
  private idleRun = 0;

  constructor(
    config: WindowingConfig,
    private readonly hooks: WindowHooks = {},
  ) {
    const w = config.windows;
    this.grid = { sizeMs: w.sizeSec * 1000, slideMs: w.slideSec * 1000 };
    this.latenessMs = w.allowedLatenessSec * 1000;
    this.rules = { maxGapPeriods: w.maxGapPeriods, staleAfterPeriods: w.staleAfterPeriods };
    this.maxIdleWindows = w.maxIdleWindows;
    this.eventTime = new PlantEventTime({ leadMs: w.maxLeadSec * 1000, share: w.jumpShare, maxHeld: w.maxAheadReadings, liveMs: w.sizeSec * 1000 });
    this.stages = stagesWithSignals(config.signals).map((stage) => ({
      stage,
      signals: config.signals
        .filter((s) => s.stage === stage)
        .map((s) => {
          const state: SignalState = { id: s.id, periodMs: s.periodSec * 1000, buffer: [], carry: undefined };
          this.bySignal.set(`${stage}/${s.id}`, state);
          return state;
        }),
    }));
  }

  /**
   * Goes on after a stop whose last stored window ended at `lastEnd`: no window ends before one slide
   * later, and readings of the windows that had closed count as late. Call before the first push.
   */
  resumeAfter(lastEnd: number): void {
    this.firstEnd = lastEnd + this.grid.slideMs;
  }

  /** Latest event time windowed minus the allowed lateness; -Infinity before the first reading. */
  get watermark(): number {
    return this.maxTs - this.latenessMs;
  }

  /** Window ends not yet closed that hold or may still receive readings. */
  get openWindows(): number {
    if (this.nextEnd === undefined) return 0;
    return Math.max(0, Math.round((lastEndHolding(this.grid, this.maxTs) - this.nextEnd) / this.grid.slideMs) + 1);
  }

  /** Readings held ahead of the plant's event time, waiting for other signals to corroborate it. */
  get heldAhead(): number {
    return this.eventTime.heldReadings;
  }

  get bufferedReadings(): number {
    let n = 0;
    for (const s of this.bySignal.values()) n += s.buffer.length;
    return n;
  }

  /** Takes one reading; returns the stage windows the advanced watermark closed, oldest end first. */
  push(reading: Reading): StageWindow[] {
    const signal = this.bySignal.get(`${reading.stage}/${reading.signal}`);
    if (!signal) return this.drop(reading, 'unknown_signal');
    if (!Number.isFinite(reading.ts) || !Number.isFinite(reading.value)) return this.drop(reading, 'not_finite');
    const before = this.eventTime.eventTime;
    const step = this.eventTime.push(reading);
    if (step.held) this.hooks.onAhead?.(reading, reading.ts - before);
    for (const gone of step.evicted) this.hooks.onAheadEvicted?.(gone);
    const out: StageWindow[] = [];
    for (const entering of step.admitted) out.push(...this.enter(entering));
    return out;
  }

  private enter(reading: Reading): StageWindow[] {
    const signal = this.bySignal.get(`${reading.stage}/${reading.signal}`);
    if (!signal) return [];
    const closedBefore = this.closedAny && this.nextEnd !== undefined ? this.nextEnd : this.firstEnd;
    if (reading.ts < closedBefore - this.grid.sizeMs) {
      this.hooks.onLate?.(reading, (Number.isFinite(this.watermark) ? this.watermark : closedBefore - this.grid.sizeMs) - reading.ts);
      return [];
    }
    if (reading.ts > this.maxTs) this.maxTs = reading.ts;
    if (!this.closedAny) {
      const first = Math.max(firstEndHolding(this.grid, reading.ts), this.firstEnd);
      if (this.nextEnd === undefined || first < this.nextEnd) this.nextEnd = first;
    }
    if (reading.quality === 'bad') this.drop(reading, 'bad_quality');
    else this.insert(signal, reading);
    return this.closeThrough(this.watermark);
  }

  /** Closes every window that holds a reading (at shutdown); later readings count as late. */
  flush(): StageWindow[] {
    if (this.nextEnd === undefined) return [];
    return this.closeThrough(lastEndHolding(this.grid, this.maxTs));
  }

  private drop(reading: Reading, reason: DropReason): [] {
    this.hooks.onDropped?.(reading, reason);
    return [];
  }

  private insert(signal: SignalState, reading: Reading): void {
    const buffer = signal.buffer;
    const sample = { ts: reading.ts, value: reading.value };
    const lastTs = buffer[buffer.length - 1]?.ts ?? -Infinity;
    if (reading.ts > lastTs) {
      buffer.push(sample);
      return;
    }
    const at = lowerBound(buffer, reading.ts);
    // The store keeps the first reading of a (stage, signal, ts); the windows do the same.
    if (buffer[at]?.ts === reading.ts || signal.carry?.ts === reading.ts) {
      this.drop(reading, 'duplicate');
      return;
    }
    buffer.splice(at, 0, sample);
  }

  private closeThrough(limit: number): StageWindow[] {
    const out: StageWindow[] = [];
    const before = this.nextEnd;
    while (this.nextEnd !== undefined && this.nextEnd <= limit) {
      const end = this.nextEnd;
      if (this.holdsReadings(end)) {
        this.idleRun = 0;
      } else if (this.idleRun >= this.maxIdleWindows) {
        this.skipIdle(end, limit);
        continue;
      } else {
        this.idleRun += 1;
      }
      for (const stage of this.stages) out.push(this.closeStage(stage, end));
      this.closedAny = true;
      this.nextEnd = end + this.grid.slideMs;
    }
    if (this.nextEnd !== before) this.prune();
    return out;
  }

  private holdsReadings(end: number): boolean {
    const start = end - this.grid.sizeMs;
    for (const signal of this.bySignal.values()) {
      const at = lowerBound(signal.buffer, start);
      if ((signal.buffer[at]?.ts ?? Infinity) < end) return true;
    }
    return false;
  }

  private skipIdle(end: number, limit: number): void {
    let target = lastEndAtOrBefore(this.grid, limit) + this.grid.slideMs;
    const start = end - this.grid.sizeMs;
    for (const signal of this.bySignal.values()) {
      const next = signal.buffer[lowerBound(signal.buffer, start)];
      if (next) target = Math.min(target, firstEndHolding(this.grid, next.ts));
    }
    target = Math.max(target, end + this.grid.slideMs);
    this.hooks.onIdleSkipped?.(Math.round((target - end) / this.grid.slideMs));
    this.nextEnd = target;
  }

  private closeStage(stage: StageState, end: number): StageWindow {
    const start = end - this.grid.sizeMs;
    const window = { start, end, asOf: Math.min(end, this.maxTs) };
    const signals: Record<string, SignalFeatures> = {};
    let fresh = 0;
    for (const signal of stage.signals) {
      const lo = lowerBound(signal.buffer, start);
      const hi = lowerBound(signal.buffer, end);
      const carry = lo > 0 ? signal.buffer[lo - 1] : signal.carry;
      const features = signalFeatures({ periodMs: signal.periodMs, carry, readings: signal.buffer.slice(lo, hi) }, window, this.rules);
      if (!features) continue;
      signals[signal.id] = features;
      if (!features.stale && !features.gappy) fresh += 1;
    }
    return { stage: stage.stage, start, end, quality: stage.signals.length ? fresh / stage.signals.length : 0, signals };
  }

  /** Forgets readings older than every open window, keeping the newest of them to carry forward. */
  private prune(): void {
    if (this.nextEnd === undefined) return;
    const boundary = this.nextEnd - this.grid.sizeMs;
    for (const signal of this.bySignal.values()) {
      const at = lowerBound(signal.buffer, boundary);
      if (at === 0) continue;
      signal.carry = signal.buffer[at - 1];
      signal.buffer.splice(0, at);
    }
  }
}
