import type { Derivative } from './plant.js';

/**
 * Dormand-Prince 5(4) with adaptive steps and FSAL, working in place on preallocated buffers.
 * The plant's fastest modes (sensor lags, aeration) bound the step, so an explicit pair at tight
 * tolerance is both accurate and cheap here; steps never cross the caller's interval end, which is
 * where the zero-order-hold inputs change.
 */
export interface SolverOptions { rtol: number; atol: number; hMax: number }

export interface Solver {
  /** Integrates x in place from t0 to t1 (inputs held constant). Returns the number of steps. */
  advance(x: Float64Array, t0: number, t1: number): number;
  readonly stats: { steps: number; rejected: number; evals: number };
}

const C2 = 1 / 5, C3 = 3 / 10, C4 = 4 / 5, C5 = 8 / 9;
const A21 = 1 / 5;
const A31 = 3 / 40, A32 = 9 / 40;
const A41 = 44 / 45, A42 = -56 / 15, A43 = 32 / 9;
const A51 = 19372 / 6561, A52 = -25360 / 2187, A53 = 64448 / 6561, A54 = -212 / 729;
const A61 = 9017 / 3168, A62 = -355 / 33, A63 = 46732 / 5247, A64 = 49 / 176, A65 = -5103 / 18656;
const B1 = 35 / 384, B3 = 500 / 1113, B4 = 125 / 192, B5 = -2187 / 6784, B6 = 11 / 84;
const E1 = 71 / 57600, E3 = -71 / 16695, E4 = 71 / 1920, E5 = -17253 / 339200, E6 = 22 / 525, E7 = -1 / 40;

export function createSolver(n: number, f: Derivative, options: Partial<SolverOptions> = {}): Solver {
  const rtol = options.rtol ?? 1e-7, atol = options.atol ?? 1e-7, hMax = options.hMax ?? 0.05;
  const k1 = new Float64Array(n), k2 = new Float64Array(n), k3 = new Float64Array(n), k4 = new Float64Array(n);
  const k5 = new Float64Array(n), k6 = new Float64Array(n), k7 = new Float64Array(n);
  const y = new Float64Array(n), ynew = new Float64Array(n);
  const stats = { steps: 0, rejected: 0, evals: 0 };
  let hLast = 1e-4;

  function advance(x: Float64Array, t0: number, t1: number): number {
    let t = t0, h = Math.min(hLast, hMax), steps = 0;
    f(t, x, k1); stats.evals++;
    while (t < t1 - 1e-12) {
      let last = false;
      if (t + h >= t1 - 1e-12) { h = t1 - t; last = true; }
      for (let i = 0; i < n; i++) y[i] = x[i]! + h * A21 * k1[i]!;
      f(t + C2 * h, y, k2);
      for (let i = 0; i < n; i++) y[i] = x[i]! + h * (A31 * k1[i]! + A32 * k2[i]!);
      f(t + C3 * h, y, k3);
      for (let i = 0; i < n; i++) y[i] = x[i]! + h * (A41 * k1[i]! + A42 * k2[i]! + A43 * k3[i]!);
      f(t + C4 * h, y, k4);
      for (let i = 0; i < n; i++) y[i] = x[i]! + h * (A51 * k1[i]! + A52 * k2[i]! + A53 * k3[i]! + A54 * k4[i]!);
      f(t + C5 * h, y, k5);
      for (let i = 0; i < n; i++) y[i] = x[i]! + h * (A61 * k1[i]! + A62 * k2[i]! + A63 * k3[i]! + A64 * k4[i]! + A65 * k5[i]!);
      f(t + h, y, k6);
      for (let i = 0; i < n; i++) ynew[i] = x[i]! + h * (B1 * k1[i]! + B3 * k3[i]! + B4 * k4[i]! + B5 * k5[i]! + B6 * k6[i]!);
      f(t + h, ynew, k7);
      stats.evals += 6;
      let err = 0;
      for (let i = 0; i < n; i++) {
        const e = h * (E1 * k1[i]! + E3 * k3[i]! + E4 * k4[i]! + E5 * k5[i]! + E6 * k6[i]! + E7 * k7[i]!);
        const sc = atol + rtol * Math.max(Math.abs(x[i]!), Math.abs(ynew[i]!));
        const r = e / sc;
        err += r * r;
      }
      err = Math.sqrt(err / n);
      if (err <= 1 || h < 1e-12) {
        t = last ? t1 : t + h;
        x.set(ynew);
        k1.set(k7);
        steps++; stats.steps++;
        const fac = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * Math.pow(err, -0.2)));
        if (!last) hLast = h;
        h = Math.min(h * fac, hMax);
        if (!last) hLast = h;
      } else {
        stats.rejected++;
        h *= Math.max(0.2, 0.9 * Math.pow(err, -0.2));
        last = false;
      }
    }
    return steps;
  }
  return { advance, stats };
}
