import type { PlantWindow } from '../contract/ports.js';
import { buildInputVector, currentValue, parsePlantInput, windowHistory, type PlantInput } from '../inference/features.js';
import type { FeatureRef } from './specs.js';

export function toPlantInputs(refs: readonly FeatureRef[]): PlantInput[] {
  return refs.map((r) => {
    const parsed = parsePlantInput(r);
    if (!parsed) throw new Error(`not a window feature: ${JSON.stringify(r)}`);
    return parsed;
  });
}

export interface Rows {
  readonly x: number[][];
  readonly y: number[][];
  /** Each target's value at the input window (what persistence predicts), when the window has it. */
  readonly now: number[][];
  /** End of each row's input window. */
  readonly ends: number[];
}

/**
 * Input rows (and target rows a horizon ahead) from consecutive plant windows, built with the
 * daemon's own feature code, so training sees exactly what inference will. Windows with a missing
 * input or target are left out, as inference skips them.
 */
export function rowsFromWindows(windows: readonly PlantWindow[], inputs: readonly PlantInput[], targets: readonly PlantInput[] = []): Rows {
  const byEnd = new Map(windows.map((w) => [w.end, w]));
  const x: number[][] = [];
  const y: number[][] = [];
  const now: number[][] = [];
  const ends: number[] = [];
  const slideMs = slideOf(windows);
  const history = windowHistory(byEnd, slideMs);
  for (const w of windows) {
    const input = buildInputVector(w, inputs, history);
    if (!input.ok) continue;
    const row: number[] = [];
    let complete = true;
    for (const t of targets) {
      const v = currentValue(byEnd.get(w.end + t.horizonMin * 60_000), t);
      if (v === null) {
        complete = false;
        break;
      }
      row.push(v);
    }
    if (!complete) continue;
    x.push(Array.from(input.values));
    y.push(row);
    now.push(targets.map((t) => currentValue(w, t) ?? Number.NaN));
    ends.push(w.end);
  }
  return { x, y, now, ends };
}

/** The windows' slide: the most common step between consecutive window ends (5 min when unknown). */
export function slideOf(windows: readonly PlantWindow[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < Math.min(windows.length, 2000); i += 1) {
    const step = (windows[i]?.end ?? 0) - (windows[i - 1]?.end ?? 0);
    if (step > 0) counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  let best = 300_000;
  let most = 0;
  for (const [step, n] of counts) if (n > most) [best, most] = [step, n];
  return best;
}
