import type { PlantGeometry } from '../config/sections/plant-geometry.js';
import type { StageId } from '../contract/plant.js';
import type { PlantWindow, SignalFeatures } from '../contract/ports.js';

/** A signal as `stage.signal`, e.g. `influent.flow`. */
export type SignalRef = `${StageId}.${string}`;

/**
 * One process indicator: which window means it reads and how it combines them. An input may list
 * alternatives; the first one with fresh data is used. `compute` returns undefined when the inputs
 * give no meaningful value (a zero flow, a zero inlet concentration).
 */
export interface IndicatorDefinition {
  readonly name: string;
  readonly stage: StageId;
  readonly unit: string;
  readonly description: string;
  readonly inputs: Readonly<Record<string, SignalRef | readonly SignalRef[]>>;
  readonly evaluate: (window: PlantWindow, geometry: PlantGeometry) => number | undefined;
}

/** `stage.signal` into its parts. */
export function splitSignalRef(ref: SignalRef | string): { stage: StageId; signal: string } {
  const dot = ref.indexOf('.');
  return { stage: ref.slice(0, dot) as StageId, signal: ref.slice(dot + 1) };
}

/** One window feature of a signal (`stage.signal`), or undefined when it is absent, stale or not finite. */
export function freshFeature(window: PlantWindow, ref: SignalRef | string, feature: 'mean' | 'last' | 'min' | 'max' | 'slope'): number | undefined {
  const { stage, signal } = splitSignalRef(ref);
  const features: SignalFeatures | undefined = window.stages[stage]?.signals[signal];
  if (!features || features.stale || !Number.isFinite(features[feature])) return undefined;
  return features[feature];
}

/** The window mean of a signal, or undefined when it is absent, stale or not finite. */
export function freshMean(window: PlantWindow, ref: SignalRef): number | undefined {
  return freshFeature(window, ref, 'mean');
}

export function define<K extends string>(spec: {
  readonly name: string;
  readonly stage: StageId;
  readonly unit: string;
  readonly description: string;
  readonly inputs: Readonly<Record<K, SignalRef | readonly SignalRef[]>>;
  readonly compute: (values: Readonly<Record<K, number>>, geometry: PlantGeometry) => number | undefined;
}): IndicatorDefinition {
  const entries = Object.entries(spec.inputs) as [K, SignalRef | readonly SignalRef[]][];
  return {
    name: spec.name,
    stage: spec.stage,
    unit: spec.unit,
    description: spec.description,
    inputs: spec.inputs,
    evaluate(window, geometry) {
      const values = {} as Record<K, number>;
      for (const [key, refs] of entries) {
        const options: readonly SignalRef[] = typeof refs === 'string' ? [refs] : refs;
        let value: number | undefined;
        for (const ref of options) {
          value = freshMean(window, ref);
          if (value !== undefined) break;
        }
        if (value === undefined) return undefined;
        values[key] = value;
      }
      return spec.compute(values, geometry);
    },
  };
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** a / b, or undefined unless b is positive. */
export const ratio = (a: number, b: number): number | undefined => (b > 0 ? a / b : undefined);
