import { N_COMP } from './asm1.js';
import { BSM1 } from './plant.js';
import {
  DO_INTEGRAL, NO_INTEGRAL, NO_SENSOR, DO_SENSOR, KLA_ACTUATOR, N_LAYERS, N_SETTLER_SOL, N_STATE, N_STATE_FULL, N_TANKS, PO4_SETTLER, PO4_TANKS,
  PRIMARY, PRIMARY_PO4, PRIMARY_QM, QINT_ACTUATOR, SETTLER_SOL, SETTLER_TSS,
} from './layout.js';
import { influentPhosphate } from './phosphorus.js';

/**
 * A plausible start (activated sludge at ~3.3 g SS/L, settler with a thin blanket). Every run
 * stabilises from here for 100+ days with the constant influent, so only the order of magnitude matters.
 */
export function initialState(): Float64Array {
  const x = new Float64Array(N_STATE);
  const tank = [30, 2, 1150, 80, 2550, 150, 450, 1, 6, 6, 1, 5, 5];
  for (let k = 0; k < N_TANKS; k++) for (let c = 0; c < N_COMP; c++) x[k * N_COMP + c] = tank[c]!;
  const tss = [12, 18, 30, 70, 360, 360, 360, 360, 360, 6400];
  const sol = [30, 1, 1, 8, 3, 0.7, 4.5];
  for (let j = 0; j < N_LAYERS; j++) {
    x[SETTLER_TSS + j] = tss[j]!;
    for (let s = 0; s < N_SETTLER_SOL; s++) x[SETTLER_SOL + j * N_SETTLER_SOL + s] = sol[s]!;
  }
  x[DO_SENSOR] = x[DO_SENSOR + 1] = 2;
  for (let i = 0; i < 8; i++) x[NO_SENSOR + i] = 1;
  x[KLA_ACTUATOR] = x[KLA_ACTUATOR + 1] = BSM1.doLoop.offset;
  x[QINT_ACTUATOR] = BSM1.noLoop.offset;
  x[DO_INTEGRAL] = 0;
  x[NO_INTEGRAL] = 0;
  return x;
}

/**
 * Extends a BSM1 state to the full plant: the primary tank starts filled with the influent, the
 * phosphate of reactors and settler at 60 % of the influent phosphate (a few days wash it out).
 */
export function extendToFull(base: Float64Array, influent: ArrayLike<number>, qIn: number): Float64Array {
  if (base.length === N_STATE_FULL) return Float64Array.from(base);
  const x = new Float64Array(N_STATE_FULL);
  x.set(base.subarray(0, N_STATE));
  for (let c = 0; c < N_COMP; c++) x[PRIMARY + c] = influent[c]!;
  x[PRIMARY_QM] = qIn;
  const po4 = influentPhosphate(influent);
  x[PRIMARY_PO4] = po4;
  for (let k = 0; k < N_TANKS; k++) x[PO4_TANKS + k] = 0.6 * po4;
  for (let j = 0; j < N_LAYERS; j++) x[PO4_SETTLER + j] = 0.6 * po4;
  return x;
}
