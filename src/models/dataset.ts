import type { PlantWindow } from '../contract/ports.js';
import { buildInputVector, parsePlantInput, type PlantInput } from '../inference/features.js';
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
  const targetGroups = new Map<number, PlantInput[]>();
  targets.forEach((t) => targetGroups.set(t.horizonMin, [...(targetGroups.get(t.horizonMin) ?? []), t]));
  for (const w of windows) {
    const input = buildInputVector(w, inputs);
    if (!input.ok) continue;
    const row: number[] = [];
    let complete = true;
    for (const t of targets) {
      const later = byEnd.get(w.end + t.horizonMin * 60_000);
      const v = later ? buildInputVector(later, [{ ...t, horizonMin: 0 }]) : undefined;
      if (!v?.ok) {
        complete = false;
        break;
      }
      row.push(v.values[0] ?? Number.NaN);
    }
    if (!complete) continue;
    x.push(Array.from(input.values));
    y.push(row);
    now.push(targets.map((t) => {
      const v = buildInputVector(w, [{ ...t, horizonMin: 0 }]);
      return v.ok ? (v.values[0] ?? Number.NaN) : Number.NaN;
    }));
    ends.push(w.end);
  }
  return { x, y, now, ends };
}
