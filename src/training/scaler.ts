import { z } from 'zod';

export const scalerSchema = z.object({
  kind: z.enum(['standard', 'robust']),
  /** Subtracted from each raw input (mean or median). */
  center: z.array(z.number()),
  /** Divides each centred input (std or IQR/1.349), never below the floor it was fitted with. */
  scale: z.array(z.number().positive()),
});
export type Scaler = z.infer<typeof scalerSchema>;

export interface ScalerOptions {
  readonly kind: 'standard' | 'robust';
  /**
   * Lowest scale as a share of |center|: a signal that hardly moved during training would otherwise
   * turn sensor noise and slow drift into huge deviations.
   */
  readonly relativeFloor?: number;
  /** Lowest scale in engineering units. */
  readonly absoluteFloor?: number;
}

function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileSorted([...values].sort((x, y) => x - y), q);
}

export function fitScaler(rows: readonly (readonly number[])[], options: ScalerOptions): Scaler {
  const width = rows[0]?.length ?? 0;
  const center: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < width; j += 1) {
    const column = rows.map((r) => r[j] ?? 0);
    let c: number;
    let s: number;
    if (options.kind === 'standard') {
      c = column.reduce((a, b) => a + b, 0) / Math.max(1, column.length);
      s = Math.sqrt(column.reduce((a, b) => a + (b - c) ** 2, 0) / Math.max(1, column.length));
    } else {
      const sorted = [...column].sort((x, y) => x - y);
      c = quantileSorted(sorted, 0.5);
      s = (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 1.349;
    }
    const floor = Math.max(options.absoluteFloor ?? 0, (options.relativeFloor ?? 0) * Math.abs(c), 1e-9);
    center.push(c);
    scale.push(Math.max(s, floor));
  }
  return { kind: options.kind, center, scale };
}

export function applyScaler(scaler: Scaler, row: readonly number[]): number[] {
  return row.map((v, j) => (v - (scaler.center[j] ?? 0)) / (scaler.scale[j] ?? 1));
}

export function invertScaler(scaler: Scaler, row: readonly number[]): number[] {
  return row.map((v, j) => v * (scaler.scale[j] ?? 1) + (scaler.center[j] ?? 0));
}
