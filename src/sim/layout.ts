import { N_COMP } from './asm1.js';

/** Offsets into the plant state vector (one Float64Array for reactors, settler, PLC dynamics). */
export const N_TANKS = 5;
export const N_LAYERS = 10;
export const N_SETTLER_SOL = 7;
/** Feed layer, counted from the top (index 0 = top layer), as `feedlayer = 5` in the toolbox. */
export const FEED_LAYER = 4;

export const REACTORS = 0;
export const SETTLER_TSS = REACTORS + N_TANKS * N_COMP; // 65
export const SETTLER_SOL = SETTLER_TSS + N_LAYERS; // 75, layer-major, 7 solubles per layer
export const DO_SENSOR = SETTLER_SOL + N_LAYERS * N_SETTLER_SOL; // 145, 2 lags
export const NO_SENSOR = DO_SENSOR + 2; // 147, 8 lags
export const KLA_ACTUATOR = NO_SENSOR + 8; // 155, 2 lags
export const QINT_ACTUATOR = KLA_ACTUATOR + 2; // 157
export const DO_INTEGRAL = QINT_ACTUATOR + 1; // 158
export const NO_INTEGRAL = DO_INTEGRAL + 1; // 159
/** Running integrals (g) for the mass balance; see Q_* below. */
export const QUAD = NO_INTEGRAL + 1; // 160
export const Q_COD_IN = 0, Q_COD_E = 1, Q_COD_W = 2, Q_OUR = 3, Q_DENIT = 4, Q_NITR = 5, Q_N_IN = 6, Q_N_E = 7, Q_N_W = 8, Q_COD_EC = 9;
export const N_QUAD = 10;
export const N_STATE = QUAD + N_QUAD;

export const tankOffset = (k: number): number => REACTORS + k * N_COMP;

/**
 * State of the full plant (PRODUCT section 2), appended after the BSM1 state so that the BSM1 plant
 * keeps its exact state vector (the solver's error norm runs over every state).
 */
export const PRIMARY = N_STATE; // 13 ASM1 components of the primary clarifier tank
export const PRIMARY_QM = PRIMARY + N_COMP; // smoothed influent flow for the HRT (BSM2 t_m)
export const PRIMARY_PO4 = PRIMARY_QM + 1;
export const PO4_TANKS = PRIMARY_PO4 + 1; // phosphate of the 5 reactors
export const PO4_SETTLER = PO4_TANKS + N_TANKS; // phosphate of the 10 settler layers (top first)
/** Running integrals of the primary clarifier and the phosphorus balance (g). */
export const PQUAD = PO4_SETTLER + N_LAYERS;
export const P_COD_RAW = 0, P_N_RAW = 1, P_TSS_RAW = 2, P_COD_PS = 3, P_N_PS = 4, P_TSS_PS = 5, P_TSS_OV = 6, P_P_RAW = 7, P_P_PS = 8, P_P_E = 9, P_P_W = 10;
export const N_PQUAD = 11;
export const N_STATE_FULL = PQUAD + N_PQUAD;

/** Which plant the twin runs: the exact BSM1 plant, or the nine stages of PRODUCT section 2 around it. */
export type PlantKind = 'bsm1' | 'full';
