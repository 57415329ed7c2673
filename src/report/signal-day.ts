/**
 * One signal's day, read once in time order a page at a time: counts, extremes, hourly means, the
 * hold-weighted mean and the time above a limit (each sample holds until the next, at most maxHoldMs
 * and not past the day's end), and the mean weighted by a flow and the mean load. Memory is fixed
 * whatever the day holds, so a day of 1 s readings costs what a day of 15 min ones does.
 */
export interface Sample {
  readonly ts: number;
  readonly value: number;
}

const HOUR_MS = 3_600_000;

/** A flow meter's day in time order: the value in effect at ts (the last at or before it, else the first after). */
export class FlowSeries {
  private constructor(
    private readonly ts: Float64Array,
    private readonly values: Float64Array,
  ) {}

  static of(samples: readonly Sample[]): FlowSeries {
    return new FlowSeries(Float64Array.from(samples, (s) => s.ts), Float64Array.from(samples, (s) => s.value));
  }

  get length(): number {
    return this.ts.length;
  }

  /** A reader for times that only move forward (one signal's samples in order). */
  cursor(): (ts: number) => number | undefined {
    let at = 0;
    return (ts) => {
      if (this.ts.length === 0) return undefined;
      while (at + 1 < this.ts.length && (this.ts[at + 1] ?? Infinity) <= ts) at += 1;
      return this.values[at];
    };
  }
}

export interface SignalDayOptions {
  readonly from: number;
  readonly to: number;
  readonly hours: number;
  readonly maxHoldMs: number;
  readonly limit?: number | undefined;
  /** Weights of the flow-weighted mean: effluent concentrations. */
  readonly weightFlow?: FlowSeries | undefined;
  /** Flow of the load (kg/d): influent and effluent concentrations. */
  readonly loadFlow?: FlowSeries | undefined;
}

export class SignalDay {
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private readonly hourSum: Float64Array;
  private readonly hourN: Uint32Array;
  private holdSum = 0;
  private holdTotal = 0;
  private aboveMs = 0;
  private flowNum = 0;
  private flowDen = 0;
  private loadSum = 0;
  private prev: Sample | undefined;
  private readonly weightAt: ((ts: number) => number | undefined) | undefined;
  private readonly loadAt: ((ts: number) => number | undefined) | undefined;

  constructor(private readonly o: SignalDayOptions) {
    this.hourSum = new Float64Array(o.hours);
    this.hourN = new Uint32Array(o.hours);
    this.weightAt = o.weightFlow && o.weightFlow.length > 0 ? o.weightFlow.cursor() : undefined;
    this.loadAt = o.loadFlow && o.loadFlow.length > 0 ? o.loadFlow.cursor() : undefined;
  }

  /** The next sample in time order (within the day, finite). */
  add(s: Sample): void {
    if (this.prev) this.close(this.prev, s.ts);
    this.prev = s;
    this.n += 1;
    this.sum += s.value;
    if (s.value < this.min) this.min = s.value;
    if (s.value > this.max) this.max = s.value;
    const h = Math.floor((s.ts - this.o.from) / HOUR_MS);
    if (h >= 0 && h < this.o.hours) {
      this.hourSum[h] = (this.hourSum[h] ?? 0) + s.value;
      this.hourN[h] = (this.hourN[h] ?? 0) + 1;
    }
    if (this.weightAt) {
      const q = this.weightAt(s.ts) ?? 0;
      this.flowNum += s.value * q;
      this.flowDen += q;
    }
    if (this.loadAt) this.loadSum += (s.value * (this.loadAt(s.ts) ?? 0)) / 1000;
  }

  /** After the last sample: its hold runs to the day's end (at most maxHoldMs). */
  finish(): void {
    if (this.prev) this.close(this.prev, this.o.to);
    this.prev = undefined;
  }

  private close(s: Sample, next: number): void {
    const hold = Math.max(0, Math.min(next - s.ts, this.o.maxHoldMs, this.o.to - s.ts));
    this.holdSum += s.value * hold;
    this.holdTotal += hold;
    if (this.o.limit !== undefined && s.value > this.o.limit) this.aboveMs += hold;
  }

  get mean(): number {
    return this.sum / this.n;
  }

  /** Each sample weighted by how long it held; the plain mean when none held. */
  get timeMean(): number | undefined {
    if (this.n === 0) return undefined;
    return this.holdTotal > 0 ? this.holdSum / this.holdTotal : this.mean;
  }

  get flowWeighted(): { mean: number; weighting: 'flow' | 'time' } {
    if (this.weightAt && this.flowDen > 0) return { mean: this.flowNum / this.flowDen, weighting: 'flow' };
    return { mean: this.mean, weighting: 'time' };
  }

  /** kg/d: mean over the samples of flow (m3/d) x concentration (mg/L) / 1000; null without samples or a flow. */
  get load(): number | null {
    return this.n > 0 && this.loadAt ? this.loadSum / this.n : null;
  }

  get hoursAboveLimit(): number | null {
    return this.o.limit === undefined ? null : this.aboveMs / HOUR_MS;
  }

  get hourly(): (number | null)[] {
    return Array.from(this.hourSum, (v, h) => ((this.hourN[h] ?? 0) > 0 ? v / (this.hourN[h] ?? 1) : null));
  }
}
