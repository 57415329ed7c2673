/**
 * Largest and smallest value by a loop. `Math.max(...values)` passes every value as an argument and
 * overflows the call stack somewhere above 100,000 of them (a day of 1 s readings, a year of minutes).
 * Same answers as Math.max / Math.min: NaN when any value is NaN, -Infinity / Infinity when there is none.
 */
export function maxOf(values: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] ?? Number.NaN;
    if (Number.isNaN(v)) return Number.NaN;
    if (v > max) max = v;
  }
  return max;
}

export function minOf(values: ArrayLike<number>): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] ?? Number.NaN;
    if (Number.isNaN(v)) return Number.NaN;
    if (v < min) min = v;
  }
  return min;
}
