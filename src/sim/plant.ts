import * as asm1 from './asm1.js';
import type { Asm1Params, ProcessTally } from './asm1.js';
import * as layout from './layout.js';
import { lagTimeConstant } from './lags.js';
import { influentPhosphate, influentTp, particulateP, phosphateRate } from './phosphorus.js';
import { particulateRemoval, PRIMARY_CLARIFIER, primarySplit } from './primary.js';

// Copied into module constants once: imported bindings are slower to read in the derivative's hot loop.
const { asm1Rates, BSM1_ASM1, codOf, nitrogenOf, N_COMP, SI, SS, XI, XS, XBH, XBA, XP, SO, SNO, SNH, SND, XND, SALK } = asm1;
const {
  DO_INTEGRAL, DO_SENSOR, FEED_LAYER, KLA_ACTUATOR, NO_INTEGRAL, NO_SENSOR, N_LAYERS, N_SETTLER_SOL, N_TANKS, QINT_ACTUATOR,
  QUAD, Q_COD_E, Q_COD_EC, Q_COD_IN, Q_COD_W, Q_DENIT, Q_NITR, Q_N_E, Q_N_IN, Q_N_W, Q_OUR, SETTLER_SOL, SETTLER_TSS,
  PRIMARY, PRIMARY_QM, PRIMARY_PO4, PO4_TANKS, PO4_SETTLER, PQUAD, P_COD_RAW, P_N_RAW, P_TSS_RAW, P_COD_PS, P_N_PS, P_TSS_PS,
  P_TSS_OV, P_P_RAW, P_P_PS, P_P_E, P_P_W,
} = layout;

/** BSM1 plant constants ([REPORT] section 2, settler1dinit.m, reginit.m, sensorinit.m). */
export const BSM1 = Object.freeze({
  volumes: [1000, 1000, 1333, 1333, 1333] as readonly number[],
  area: 1500, layerHeight: 0.4,
  v0max: 250, v0: 474, rh: 0.000576, rp: 0.00286, fns: 0.00228, Xt: 3000,
  qinStab: 18446, qintOpen: 55338, qr: 18446, qw: 385,
  klaOpen: [0, 0, 240, 240, 84] as readonly number[], klaMax: 360, qintMax: 92230,
  codEc: 400000,
  doLoop: { setpoint: 2, K: 25, Ti: 0.002, Tt: 0.001, offset: 144, range: 10, sigma: 0.25 },
  noLoop: { setpoint: 1, K: 10000, Ti: 0.025, Tt: 0.015, offset: 18500, range: 20, sigma: 0.5 },
  doSensorTau: lagTimeConstant(1 / 1440, 2),
  noSensorTau: lagTimeConstant(10 / 1440, 8),
  klaActuatorTau: lagTimeConstant(4 / 1440, 2),
  qintActuatorT: 0.001,
});

/**
 * Everything that drives the plant between two control ticks: held constant over a tick
 * (zero-order hold, as the reference implementation reads its influent and noise files).
 */
export interface PlantDrive {
  influent: Float64Array; // 13 components, g/m3
  qIn: number;
  qr: number;
  qw: number;
  /** External carbon dosed to tank 1 (m3/d of a 400 kg COD/m3 source). */
  qec: number;
  /** KLa of tanks 1-5 used when the DO loop is off (tank 5) and always for tanks 1-4. */
  kla: Float64Array;
  doLoop: boolean;
  doSetpoint: number;
  noLoop: boolean;
  noSetpoint: number;
  /** Internal recycle flow commanded when the nitrate loop is off. */
  qintManual: number;
  /** Ideal sensors and actuators (no lags, no noise), as in the steady-state references. */
  ideal: boolean;
  noiseDo: number;
  noiseNo: number;
  /** Fault multipliers: heterotroph and autotroph growth, settling velocity, available aeration. */
  muHFactor: number;
  muAFactor: number;
  settlingFactor: number;
  aerationCap: number;
}

export function defaultDrive(): PlantDrive {
  return {
    influent: new Float64Array([30, 69.5, 51.2, 202.32, 28.17, 0, 0, 0, 0, 31.56, 6.95, 10.59, 7]),
    qIn: 18446, qr: BSM1.qr, qw: BSM1.qw, qec: 0,
    kla: new Float64Array(BSM1.klaOpen),
    doLoop: true, doSetpoint: BSM1.doLoop.setpoint,
    noLoop: true, noSetpoint: BSM1.noLoop.setpoint, qintManual: BSM1.qintOpen,
    ideal: true, noiseDo: 0, noiseNo: 0,
    muHFactor: 1, muAFactor: 1, settlingFactor: 1, aerationCap: 1,
  };
}

/** Instantaneous plant outputs that are not states (flows, effluent, underflow, actuators). */
export interface PlantView {
  effluent: Float64Array; // 13 comps
  underflow: Float64Array;
  tank1In: Float64Array;
  qe: number; qf: number; qint: number; q1: number;
  kla5: number; doMeasured: number; noMeasured: number;
  /** Full plant only (zero for BSM1): primary clarifier overflow and sludge, flows in m3/d. */
  primaryOverflow: Float64Array; primaryUnderflow: Float64Array;
  /** Flow into the activated sludge (the overflow; the raw influent for BSM1) and primary sludge flow. */
  qCore: number; qpu: number; primaryRemoval: number;
  /** Phosphate (g P/m3) of the primary tank, the 5 reactors, the settler effluent and underflow. */
  po4Primary: number; po4Tanks: Float64Array; po4Effluent: number; po4Underflow: number;
}

export type Derivative = (t: number, x: Float64Array, dx: Float64Array) => void;

export interface PlantModel {
  readonly drive: PlantDrive;
  readonly params: Asm1Params;
  deriv: Derivative;
  /** Fills view from state x under the current drive. */
  observe(x: Float64Array, view: PlantView): void;
}

export function newView(): PlantView {
  return {
    effluent: new Float64Array(N_COMP), underflow: new Float64Array(N_COMP), tank1In: new Float64Array(N_COMP),
    qe: 0, qf: 0, qint: 0, q1: 0, kla5: 0, doMeasured: 0, noMeasured: 0,
    primaryOverflow: new Float64Array(N_COMP), primaryUnderflow: new Float64Array(N_COMP),
    qCore: 0, qpu: 0, primaryRemoval: 0, po4Primary: 0, po4Tanks: new Float64Array(N_TANKS), po4Effluent: 0, po4Underflow: 0,
  };
}

const SOL_INDEX = [SI, SS, SO, SNO, SNH, SND, SALK];
const PART_INDEX = [XI, XS, XBH, XBA, XP, XND];
const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/**
 * kind 'bsm1' is the exact BSM1 plant; 'full' puts the BSM2 primary clarifier in front of it and
 * carries phosphate through reactors and settler (state layout.PRIMARY and after).
 */
export function createPlant(drive: PlantDrive = defaultDrive(), params: Asm1Params = BSM1_ASM1, kind: layout.PlantKind = 'bsm1'): PlantModel {
  const p = params;
  const full = kind === 'full';
  const primOf = new Float64Array(N_COMP), primUf = new Float64Array(N_COMP);
  let primEta = 0;
  const V = Float64Array.from(BSM1.volumes);
  const rates = new Float64Array(N_COMP);
  const cin = new Float64Array(N_COMP);
  const vs = new Float64Array(N_LAYERS);
  const flux = new Float64Array(N_LAYERS);
  const eff = new Float64Array(N_COMP);
  const und = new Float64Array(N_COMP);
  const tally: ProcessTally = { our: 0, denit: 0, nitr: 0 };
  const A = BSM1.area, z = BSM1.layerHeight;
  const dl = BSM1.doLoop, nl = BSM1.noLoop;
  const t5 = 4 * N_COMP;

  /** Control layer: returns kla5 and qint actually applied, writes PLC state derivatives. */
  let kla5 = 0, qint = 0, doMeas = 0, noMeas = 0;
  function control(x: Float64Array, dx: Float64Array | undefined): void {
    const d = drive;
    const klaMax = BSM1.klaMax * d.aerationCap;
    doMeas = d.ideal ? x[t5 + SO]! : clamp(x[DO_SENSOR + 1]! + d.noiseDo, 0, dl.range);
    noMeas = d.ideal ? x[N_COMP + SNO]! : clamp(x[NO_SENSOR + 7]! + d.noiseNo, 0, nl.range);
    let klaCmd: number;
    if (d.doLoop) {
      const e = d.doSetpoint - doMeas;
      const u = dl.offset + dl.K * e + x[DO_INTEGRAL]!;
      klaCmd = clamp(u, 0, klaMax);
      if (dx) dx[DO_INTEGRAL] = dl.K / dl.Ti * e + (klaCmd - u) / dl.Tt;
    } else {
      klaCmd = Math.min(d.kla[4]!, klaMax);
      if (dx) dx[DO_INTEGRAL] = 0;
    }
    let qCmd: number;
    if (d.noLoop) {
      const e = d.noSetpoint - noMeas;
      const u = nl.offset + nl.K * e + x[NO_INTEGRAL]!;
      qCmd = clamp(u, 0, BSM1.qintMax);
      if (dx) dx[NO_INTEGRAL] = nl.K / nl.Ti * e + (qCmd - u) / nl.Tt;
    } else {
      qCmd = clamp(d.qintManual, 0, BSM1.qintMax);
      if (dx) dx[NO_INTEGRAL] = 0;
    }
    if (d.ideal) {
      kla5 = klaCmd;
      qint = qCmd;
      if (dx) for (let i = DO_SENSOR; i <= QINT_ACTUATOR; i++) dx[i] = 0;
      return;
    }
    kla5 = Math.min(Math.max(x[KLA_ACTUATOR + 1]!, 0), klaMax);
    qint = Math.max(x[QINT_ACTUATOR]!, 0);
    if (!dx) return;
    const tA = BSM1.doSensorTau, tB = BSM1.noSensorTau, tK = BSM1.klaActuatorTau;
    dx[DO_SENSOR] = (x[t5 + SO]! - x[DO_SENSOR]!) / tA;
    dx[DO_SENSOR + 1] = (x[DO_SENSOR]! - x[DO_SENSOR + 1]!) / tA;
    dx[NO_SENSOR] = (x[N_COMP + SNO]! - x[NO_SENSOR]!) / tB;
    for (let i = 1; i < 8; i++) dx[NO_SENSOR + i] = (x[NO_SENSOR + i - 1]! - x[NO_SENSOR + i]!) / tB;
    dx[KLA_ACTUATOR] = (klaCmd - x[KLA_ACTUATOR]!) / tK;
    dx[KLA_ACTUATOR + 1] = (x[KLA_ACTUATOR]! - x[KLA_ACTUATOR + 1]!) / tK;
    dx[QINT_ACTUATOR] = (qCmd - x[QINT_ACTUATOR]!) / BSM1.qintActuatorT;
  }

  /** Settler outlet concentrations (effluent, underflow) from the layer state and tank-5 feed. */
  function settlerOutlets(x: Float64Array): void {
    const tssF = p.X2TSS * (x[t5 + XS]! + x[t5 + XI]! + x[t5 + XBH]! + x[t5 + XBA]! + x[t5 + XP]!);
    const top = x[SETTLER_TSS]!, bottom = x[SETTLER_TSS + N_LAYERS - 1]!;
    const fe = tssF > 0 ? top / tssF : 0, fu = tssF > 0 ? bottom / tssF : 0;
    for (let j = 0; j < 6; j++) {
      const c = PART_INDEX[j]!;
      eff[c] = x[t5 + c]! * fe;
      und[c] = x[t5 + c]! * fu;
    }
    for (let j = 0; j < N_SETTLER_SOL; j++) {
      const c = SOL_INDEX[j]!;
      eff[c] = x[SETTLER_SOL + j]!;
      und[c] = x[SETTLER_SOL + (N_LAYERS - 1) * N_SETTLER_SOL + j]!;
    }
  }

  /** Primary clarifier: fills primOf/primUf, writes its derivatives when dx is given; returns the overflow. */
  function primaryStage(x: Float64Array, dx: Float64Array | undefined): number {
    const d = drive, pc = PRIMARY_CLARIFIER;
    const qRaw = d.qIn, raw = d.influent;
    primEta = particulateRemoval(x[PRIMARY_QM]!);
    primarySplit(x, PRIMARY, primEta, primOf, primUf);
    const qu = pc.fPS * qRaw, qo = qRaw - qu;
    if (!dx) return qo;
    const dil = qRaw / pc.volume;
    for (let c = 0; c < N_COMP; c++) dx[PRIMARY + c] = dil * (raw[c]! - x[PRIMARY + c]!);
    dx[PRIMARY_QM] = (qRaw - x[PRIMARY_QM]!) / pc.tM;
    dx[PRIMARY_PO4] = dil * (influentPhosphate(raw) - x[PRIMARY_PO4]!);
    const po4 = Math.max(0, x[PRIMARY_PO4]!);
    dx[PQUAD + P_COD_RAW] = qRaw * codOf(raw);
    dx[PQUAD + P_N_RAW] = qRaw * nitrogenOf(p, raw);
    dx[PQUAD + P_TSS_RAW] = qRaw * asm1.tssOf(p, raw);
    dx[PQUAD + P_COD_PS] = qu * codOf(primUf);
    dx[PQUAD + P_N_PS] = qu * nitrogenOf(p, primUf);
    dx[PQUAD + P_TSS_PS] = qu * asm1.tssOf(p, primUf);
    dx[PQUAD + P_TSS_OV] = qo * asm1.tssOf(p, primOf);
    dx[PQUAD + P_P_RAW] = qRaw * influentTp(raw);
    dx[PQUAD + P_P_PS] = qu * (po4 + particulateP(primUf));
    return qo;
  }

  const deriv: Derivative = (_t, x, dx) => {
    const d = drive;
    control(x, dx);
    settlerOutlets(x);
    let qIn = d.qIn, inf = d.influent;
    if (full) { qIn = primaryStage(x, dx); inf = primOf; }
    const qr = d.qr, qw = d.qw, qec = d.qec;
    const q1 = qIn + qr + qint + qec;
    for (let c = 0; c < N_COMP; c++) cin[c] = (qIn * inf[c]! + qr * und[c]! + qint * x[t5 + c]!) / q1;
    cin[SS] = cin[SS]! + qec * BSM1.codEc / q1;
    let our = 0, denit = 0, nitr = 0;
    for (let k = 0; k < N_TANKS; k++) {
      const o = k * N_COMP;
      asm1Rates(p, x, o, rates, 0, d.muHFactor, d.muAFactor, tally);
      our += tally.our * V[k]!; denit += tally.denit * V[k]!; nitr += tally.nitr * V[k]!;
      const dil = q1 / V[k]!;
      for (let c = 0; c < N_COMP; c++) {
        const up = k === 0 ? cin[c]! : x[o - N_COMP + c]!;
        dx[o + c] = dil * (up - x[o + c]!) + rates[c]!;
      }
      const kla = k === 4 ? kla5 : Math.min(d.kla[k]!, BSM1.klaMax * (k >= 2 ? d.aerationCap : 1));
      dx[o + SO] = dx[o + SO]! + kla * (p.SOsat - x[o + SO]!);
      if (full) {
        const up = k === 0
          ? (qIn * Math.max(0, x[PRIMARY_PO4]!) + qr * x[PO4_SETTLER + N_LAYERS - 1]! + qint * x[PO4_TANKS + 4]!) / q1
          : x[PO4_TANKS + k - 1]!;
        dx[PO4_TANKS + k] = dil * (up - x[PO4_TANKS + k]!) + phosphateRate(rates);
      }
    }
    // Settler (Takacs 1-D, 10 layers, feed layer 5 from the top).
    const qf = qIn + qr + qec, qu = qr + qw, qe = qf - qu;
    const vup = qe / A, vdn = qu / A;
    const tssF = p.X2TSS * (x[t5 + XS]! + x[t5 + XI]! + x[t5 + XBH]! + x[t5 + XBA]! + x[t5 + XP]!);
    const xmin = BSM1.fns * tssF;
    const v0 = BSM1.v0 * d.settlingFactor, v0max = BSM1.v0max * d.settlingFactor;
    for (let j = 0; j < N_LAYERS; j++) {
      const X = x[SETTLER_TSS + j]!;
      const xs = X - xmin;
      const v = v0 * (Math.exp(-BSM1.rh * xs) - Math.exp(-BSM1.rp * xs));
      vs[j] = (v < 0 ? 0 : v > v0max ? v0max : v) * X;
    }
    // flux[j]: gravity flux from layer j down to layer j+1.
    for (let j = 0; j < N_LAYERS - 1; j++) {
      const a = vs[j]!, b = vs[j + 1]!;
      if (j < FEED_LAYER && x[SETTLER_TSS + j + 1]! <= BSM1.Xt) flux[j] = a;
      else flux[j] = a < b ? a : b;
    }
    for (let j = 0; j < N_LAYERS; j++) {
      const X = x[SETTLER_TSS + j]!;
      const inFromAbove = j > 0 ? flux[j - 1]! : 0;
      const outBelow = j < N_LAYERS - 1 ? flux[j]! : 0;
      let bulk: number;
      if (j < FEED_LAYER) bulk = vup * (x[SETTLER_TSS + j + 1]! - X);
      else if (j === FEED_LAYER) bulk = qf * tssF / A - (vup + vdn) * X;
      else bulk = vdn * (x[SETTLER_TSS + j - 1]! - X);
      dx[SETTLER_TSS + j] = (bulk + inFromAbove - outBelow) / z;
      const so = SETTLER_SOL + j * N_SETTLER_SOL;
      for (let s = 0; s < N_SETTLER_SOL; s++) {
        const Z = x[so + s]!;
        let b: number;
        if (j < FEED_LAYER) b = vup * (x[so + N_SETTLER_SOL + s]! - Z);
        else if (j === FEED_LAYER) b = qf * x[t5 + SOL_INDEX[s]!]! / A - (vup + vdn) * Z;
        else b = vdn * (x[so - N_SETTLER_SOL + s]! - Z);
        dx[so + s] = b / z;
      }
      if (full) {
        const P = x[PO4_SETTLER + j]!;
        let b: number;
        if (j < FEED_LAYER) b = vup * (x[PO4_SETTLER + j + 1]! - P);
        else if (j === FEED_LAYER) b = qf * x[PO4_TANKS + 4]! / A - (vup + vdn) * P;
        else b = vdn * (x[PO4_SETTLER + j - 1]! - P);
        dx[PO4_SETTLER + j] = b / z;
      }
    }
    // Running integrals for the COD and N balances.
    dx[QUAD + Q_COD_IN] = qIn * codOf(inf);
    dx[QUAD + Q_COD_E] = qe * codOf(eff);
    dx[QUAD + Q_COD_W] = qw * codOf(und);
    dx[QUAD + Q_OUR] = our;
    dx[QUAD + Q_DENIT] = denit;
    dx[QUAD + Q_NITR] = nitr;
    dx[QUAD + Q_N_IN] = qIn * nitrogenOf(p, inf);
    dx[QUAD + Q_N_E] = qe * nitrogenOf(p, eff);
    dx[QUAD + Q_N_W] = qw * nitrogenOf(p, und);
    dx[QUAD + Q_COD_EC] = qec * BSM1.codEc;
    if (full) {
      dx[PQUAD + P_P_E] = qe * (x[PO4_SETTLER]! + particulateP(eff));
      dx[PQUAD + P_P_W] = qw * (x[PO4_SETTLER + N_LAYERS - 1]! + particulateP(und));
    }
  };

  function observe(x: Float64Array, view: PlantView): void {
    control(x, undefined);
    settlerOutlets(x);
    const d = drive;
    let qIn = d.qIn, inf = d.influent;
    if (full) {
      qIn = primaryStage(x, undefined);
      inf = primOf;
      view.primaryOverflow.set(primOf);
      view.primaryUnderflow.set(primUf);
      view.qpu = d.qIn - qIn;
      view.primaryRemoval = primEta;
      view.po4Primary = Math.max(0, x[PRIMARY_PO4]!);
      for (let k = 0; k < N_TANKS; k++) view.po4Tanks[k] = x[PO4_TANKS + k]!;
      view.po4Effluent = x[PO4_SETTLER]!;
      view.po4Underflow = x[PO4_SETTLER + N_LAYERS - 1]!;
    }
    view.qCore = qIn;
    view.effluent.set(eff);
    view.underflow.set(und);
    view.qint = qint;
    view.kla5 = kla5;
    view.doMeasured = doMeas;
    view.noMeasured = noMeas;
    view.qf = qIn + d.qr + d.qec;
    view.qe = view.qf - d.qr - d.qw;
    view.q1 = view.qf + qint;
    for (let c = 0; c < N_COMP; c++) view.tank1In[c] = (qIn * inf[c]! + d.qr * und[c]! + qint * x[t5 + c]!) / view.q1;
    view.tank1In[SS] = view.tank1In[SS]! + d.qec * BSM1.codEc / view.q1;
  }

  return { drive, params: p, deriv, observe };
}
