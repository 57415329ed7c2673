/**
 * Window grid in event time: windows end on multiples of the slide (epoch aligned, so a 5-minute
 * window ends on the clock's 5-minute marks) and span `size` before their end: [end - size, end).
 */
export interface WindowGrid {
  readonly sizeMs: number;
  readonly slideMs: number;
}

/** The earliest window end whose window holds `ts`. */
export function firstEndHolding(grid: WindowGrid, ts: number): number {
  return (Math.floor(ts / grid.slideMs) + 1) * grid.slideMs;
}

/** The latest window end whose window holds `ts`. */
export function lastEndHolding(grid: WindowGrid, ts: number): number {
  return Math.floor((ts + grid.sizeMs) / grid.slideMs) * grid.slideMs;
}

/** The latest window end at or before `ts` (the last window a watermark at `ts` has closed). */
export function lastEndAtOrBefore(grid: WindowGrid, ts: number): number {
  return Math.floor(ts / grid.slideMs) * grid.slideMs;
}
