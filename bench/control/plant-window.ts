import type { SignalConfig } from '../../src/config/sections/plant.js';
import type { WindowsConfig } from '../../src/config/sections/windows.js';
import type { StageId } from '../../src/contract/plant.js';
import type { PlantWindow, StageWindow } from '../../src/contract/ports.js';
import { stagesWithSignals, StageWindower } from '../../src/windows/index.js';

/**
 * PlantWindows from the twin's sensor readings, through the daemon's own windower: each minute the
 * readings due at that minute (by their sampling period) go in, closed stage windows are grouped by end.
 */
export class TwinWindows {
  private readonly windower: StageWindower;
  private readonly stages: readonly StageId[];
  private readonly periods: readonly { key: string; stage: StageId; signal: string; periodMin: number }[];
  private pending = new Map<number, Partial<Record<StageId, StageWindow>>>();

  constructor(windows: WindowsConfig, signals: readonly SignalConfig[]) {
    this.windower = new StageWindower({ windows, signals });
    this.stages = stagesWithSignals(signals);
    this.periods = signals.map((s) => ({ key: `${s.stage}/${s.id}`, stage: s.stage, signal: s.id, periodMin: Math.max(1, Math.round(s.periodSec / 60)) }));
  }

  /** Feeds the minute's due readings; returns the plant windows that closed, oldest first. */
  push(minute: number, ts: number, readings: Readonly<Record<string, number>>): PlantWindow[] {
    const closed: StageWindow[] = [];
    for (const p of this.periods) {
      if (minute % p.periodMin !== 0) continue;
      const value = readings[p.key];
      if (value === undefined) continue;
      closed.push(...this.windower.push({ stage: p.stage, signal: p.signal, ts, value, quality: 'good', receivedAt: ts }));
    }
    for (const w of closed) {
      const group = this.pending.get(w.end) ?? {};
      group[w.stage] = w;
      this.pending.set(w.end, group);
    }
    const out: PlantWindow[] = [];
    for (const [end, group] of [...this.pending.entries()].sort((a, b) => a[0] - b[0])) {
      if (!this.stages.every((s) => group[s] !== undefined)) continue;
      this.pending.delete(end);
      const any = Object.values(group)[0]!;
      out.push({ start: any.start, end, stages: group });
    }
    return out;
  }
}
