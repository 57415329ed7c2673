import type { Reading } from '../contract/reading.js';

/**
 * The plant's event time, guarded against a lone reading stamped far ahead (a bare-number publish
 * received "now" while the plant replays the past, a PLC whose clock is wrong). A reading at most
 * `leadMs` ahead of the event time moves it as it always did; one further ahead is held aside until
 * readings of more than `share` of the live signals stand there too: the plant as a whole agrees
 * that time moved (a real clock change, a restart after a long outage), and the event time follows
 * to the latest time that many signals reached. One PLC with a wrong clock, or a stray publish on a
 * few signals, is not the plant. Held readings enter, in order, once the event time came within
 * `leadMs` of them. At most `maxHeld` are held; the oldest held one gives way (evicted, counted).
 */
export interface EventTimeRules {
  readonly leadMs: number;
  /** Share of the live signals that must be exceeded by the signals standing ahead before the event time jumps. */
  readonly share: number;
  readonly maxHeld: number;
  /**
   * Only signals with a reading this close behind the event time (or held ahead of it) count towards
   * the quorum, so a plant where fewer signals live (the rest dead, or slow lab samples) still moves
   * on the ones that do.
   */
  readonly liveMs: number;
}

export interface EventTimeStep {
  /** Readings that enter the windows now, in the order they must enter. */
  readonly admitted: readonly Reading[];
  /** The pushed reading was held (ahead, not corroborated). */
  readonly held: boolean;
  /** Held readings given up to keep the hold bounded (stored all the same, never windowed). */
  readonly evicted: readonly Reading[];
}

const key = (r: Reading): string => `${r.stage}/${r.signal}`;

/** The latest time that at least `quorum` of the given per-signal times reached (k-th highest). */
export function agreedTime(latestBySignal: readonly number[], quorum: number): number | undefined {
  if (quorum < 1 || latestBySignal.length < quorum) return undefined;
  const sorted = [...latestBySignal].sort((a, b) => b - a);
  return sorted[quorum - 1];
}

/** Signals that must stand ahead: more than `share` of the live ones, at most all of them, at least one. */
export function quorumInForce(share: number, liveSignals: number): number {
  return Math.max(1, Math.min(liveSignals, Math.floor(share * liveSignals) + 1));
}

/** How many signals are live: entered a reading at or after `since`, or have readings held ahead. */
export function liveSignals(latestEntered: ReadonlyMap<string, number>, held: ReadonlySet<string> | ReadonlyMap<string, unknown>, since: number): number {
  let n = held.size;
  for (const [signal, ts] of latestEntered) if (ts >= since && !held.has(signal)) n += 1;
  return n;
}

/** True when a reading at `ts` is too far ahead of `eventTime` to move it alone. */
export function isAhead(eventTime: number, ts: number, leadMs: number): boolean {
  return Number.isFinite(eventTime) && ts > eventTime + leadMs;
}

/** Index of the first held reading with ts > t (held is sorted by ts, stable for equal ts). */
function upperBound(held: readonly Reading[], t: number): number {
  let lo = 0;
  let hi = held.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((held[mid]?.ts ?? Infinity) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class PlantEventTime {
  private time = -Infinity;
  /** Per signal, the latest ts that entered the windows. */
  private readonly entered = new Map<string, number>();
  /** Held readings, sorted by ts. */
  private readonly held: Reading[] = [];
  /**
   * Per signal: how many readings are held and the latest ts among them. Readings leave the hold
   * oldest first, so a signal's latest stays right until its last held reading leaves.
   */
  private readonly heldBySignal = new Map<string, { count: number; latest: number }>();

  constructor(private readonly rules: EventTimeRules) {}

  /** Latest corroborated event time; -Infinity before the first reading. */
  get eventTime(): number {
    return this.time;
  }

  get heldReadings(): number {
    return this.held.length;
  }

  push(reading: Reading): EventTimeStep {
    if (!isAhead(this.time, reading.ts, this.rules.leadMs)) {
      this.enter(reading);
      return { admitted: [reading, ...this.release()], held: false, evicted: [] };
    }
    this.hold(reading);
    const evicted = this.held.length > this.rules.maxHeld ? this.held.splice(0, this.held.length - this.rules.maxHeld) : [];
    evicted.forEach((r) => this.forget(r));
    const latest = [...this.heldBySignal.values()].map((s) => s.latest);
    const agreed = agreedTime(latest, quorumInForce(this.rules.share, liveSignals(this.entered, this.heldBySignal, this.time - this.rules.liveMs)));
    if (agreed === undefined || agreed <= this.time) return { admitted: [], held: true, evicted };
    this.time = agreed;
    const admitted = this.release();
    return { admitted, held: !admitted.includes(reading), evicted };
  }

  private enter(reading: Reading): void {
    const k = key(reading);
    this.entered.set(k, Math.max(this.entered.get(k) ?? -Infinity, reading.ts));
    if (reading.ts > this.time) this.time = reading.ts;
  }

  /** Lets in the held readings the event time came within reach of (each may move it further). */
  private release(): Reading[] {
    const out: Reading[] = [];
    while (this.held.length > 0 && !isAhead(this.time, this.held[0]?.ts ?? Infinity, this.rules.leadMs)) {
      const next = this.held.shift();
      if (!next) break;
      this.forget(next);
      this.enter(next);
      out.push(next);
    }
    return out;
  }

  private hold(reading: Reading): void {
    this.held.splice(upperBound(this.held, reading.ts), 0, reading);
    const s = this.heldBySignal.get(key(reading));
    if (s) {
      s.count += 1;
      s.latest = Math.max(s.latest, reading.ts);
    } else this.heldBySignal.set(key(reading), { count: 1, latest: reading.ts });
  }

  /** Books a reading out of the hold (released or evicted: always its signal's oldest held one). */
  private forget(reading: Reading): void {
    const s = this.heldBySignal.get(key(reading));
    if (!s) return;
    s.count -= 1;
    if (s.count <= 0) this.heldBySignal.delete(key(reading));
  }
}
