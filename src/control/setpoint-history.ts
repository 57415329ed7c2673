import type { LoopId } from '../contract/plant.js';
import type { SetpointView } from '../contract/ports.js';

interface Held {
  readonly value: number;
  readonly ts: number;
  readonly validUntil: number;
}

/** Setpoints older than this behind a loop's newest are forgotten (the longest settling anyone asks for). */
const KEEP_MS = 6 * 3_600_000;

/**
 * The setpoints control published, per loop, in event time: what the models compare a loop's measured
 * value with. In memory; after a restart it starts again from the republished last setpoint.
 */
export class SetpointHistory implements SetpointView {
  private readonly loops = new Map<LoopId, Held[]>();

  record(loop: LoopId, value: number, ts: number, validUntil: number): void {
    if (!Number.isFinite(value) || !Number.isFinite(ts)) return;
    let held = this.loops.get(loop);
    if (!held) {
      held = [];
      this.loops.set(loop, held);
    }
    const last = held.at(-1);
    if (last && ts < last.ts) return;
    if (last && ts === last.ts) held.pop();
    held.push({ value, ts, validUntil });
    while (held.length > 1 && (held[1]?.ts ?? ts) < ts - KEEP_MS) held.shift();
  }

  range(loop: LoopId, from: number, to: number): { min: number; max: number } | undefined {
    const held = this.loops.get(loop) ?? [];
    // The setpoint in effect at `from` is the last one published at or before it; each after it up to `to` counts.
    let first = -1;
    for (let i = held.length - 1; i >= 0; i -= 1) {
      if ((held[i]?.ts ?? Infinity) <= from) {
        first = i;
        break;
      }
    }
    if (first < 0) return undefined;
    let min = Infinity;
    let max = -Infinity;
    let coveredUntil = -Infinity;
    for (let i = first; i < held.length; i += 1) {
      const sp = held[i] as Held;
      if (sp.ts > to) break;
      // A gap in validity: the PLC ran on its own setpoint for a while, which the daemon does not know.
      if (i > first && sp.ts > coveredUntil) return undefined;
      min = Math.min(min, sp.value);
      max = Math.max(max, sp.value);
      coveredUntil = sp.validUntil;
    }
    return coveredUntil >= to ? { min, max } : undefined;
  }
}
