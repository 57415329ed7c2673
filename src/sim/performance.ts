import { BSM1_ASM1, bod5Of, codOf, tknOf, tssOf, SNH, SNO, type Asm1Params } from './asm1.js';
import { BSM1 } from './plant.js';
import { PRIMARY_CLARIFIER } from './primary.js';

/** Records of the full plant's extra stages, each a rate at the sample instant. */
export interface FullSamples {
  /** Primary sludge flow (m3/d) and its TSS (g/m3). */
  qpu: number[]; primarySludgeTss: number[];
  /** Membrane pumping (kWh/d), solids retained and flushed out (g/d), backwash water lost (m3/d). */
  membraneKwh: number[]; membraneSolids: number[]; backwashLoss: number[];
  /** Chemical sludge (g/d); effluent PO4-P and TP (g P/m3). */
  chemicalSludge: number[]; po4: number[]; tp: number[];
}

export function emptyFullSamples(): FullSamples {
  return { qpu: [], primarySludgeTss: [], membraneKwh: [], membraneSolids: [], backwashLoss: [], chemicalSludge: [], po4: [], tp: [] };
}

/** Plant records every 15 min of plant time, as the BSM1 evaluation samples them. */
export interface PerformanceSamples {
  t: number[];
  effluent: Float64Array[];
  qe: number[]; qint: number[]; qr: number[]; qw: number[]; qec: number[];
  kla: Float64Array[];
  /** TSS of the underflow (waste sludge), g SS/m3. */
  wasteTss: number[];
  /** Solids inventory of reactors and settler (and primary clarifier in the full plant), g SS. */
  tssInventory: number[];
  /** Present for the full plant only. */
  full?: FullSamples;
}

export function emptySamples(): PerformanceSamples {
  return { t: [], effluent: [], qe: [], qint: [], qr: [], qw: [], qec: [], kla: [], wasteTss: [], tssInventory: [] };
}

export interface Violation { limit: number; percentOfTime: number; days: number; occasions: number }

/** BSM1 performance figures ([REPORT] section 6, perf_plant.m), updated criteria. */
export interface PerformanceFigures {
  window: [number, number];
  qe: number;
  effluentAvg: { SNH: number; SNO: number; TKN: number; Ntot: number; CODt: number; BOD5: number; TSS: number };
  EQI: number; AE: number; PE: number; SP: number; SPtotal: number; EC: number; ME: number; OCI: number;
  percentile95: { SNH: number; Ntot: number; TSS: number };
  violations: { Ntot: Violation; CODt: Violation; SNH: Violation; TSS: Violation; BOD5: Violation };
  meanQint: number; meanKla5: number;
  /**
   * Full plant only. SP and PE above then include the primary sludge, the solids flushed from the
   * membrane, the chemical sludge, the primary sludge pumping and the membrane pumping.
   */
  full?: {
    effluentAvg: { TP: number; PO4: number };
    percentile95TP: number;
    violationTP: Violation;
    /** kg SS/d. */
    primarySludge: number; membraneSolids: number; chemicalSludge: number;
    /** kWh/d. */
    primaryPumping: number; membraneEnergy: number;
    /** Backwash water lost, m3/d. */
    backwashLoss: number;
  };
}

const LIMITS = { Ntot: 18, CODt: 100, SNH: 4, TSS: 30, BOD5: 10 } as const;
/** Council Directive 91/271/EEC, Annex I Table 2: 2 mg P/L for 10,000-100,000 p.e. */
const TP_LIMIT = 2;

function percentile95(values: number[]): number {
  // Same convention as MATLAB prctile (midpoint interpolation).
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const pos = 0.95 * n - 0.5;
  const lo = Math.max(0, Math.min(n - 1, Math.floor(pos)));
  const hi = Math.min(n - 1, lo + 1);
  const frac = Math.min(1, Math.max(0, pos - lo));
  return v[lo]! + (v[hi]! - v[lo]!) * frac;
}

/**
 * Evaluates [from, to) with zero-order hold between samples (forward Euler), as the reference does.
 * The samples must include the instants `from` and `to` (the latter for the sludge inventory).
 */
export function evaluatePerformance(s: PerformanceSamples, from = 7, to = 14, p: Asm1Params = BSM1_ASM1): PerformanceFigures {
  const eps = 1e-9;
  const idx: number[] = [];
  for (let i = 0; i < s.t.length - 1; i++) if (s.t[i]! >= from - eps && s.t[i]! < to - eps) idx.push(i);
  const iFrom = s.t.findIndex((t) => Math.abs(t - from) < eps);
  const iTo = s.t.findIndex((t) => Math.abs(t - to) < eps);
  if (idx.length === 0 || iFrom < 0 || iTo < 0) throw new Error(`performance window ${from}-${to} d not covered by samples`);
  const tobs = to - from;
  let eq = 0, ae = 0, pe = 0, me = 0, wasteSs = 0, effSs = 0, ec = 0, qeSum = 0, qint = 0, kla5 = 0;
  const load = { SNH: 0, SNO: 0, TKN: 0, Ntot: 0, CODt: 0, BOD5: 0, TSS: 0 };
  const series = { SNH: [] as number[], Ntot: [] as number[], TSS: [] as number[], CODt: [] as number[], BOD5: [] as number[] };
  const f = s.full;
  const extra = { pu: 0, primary: 0, memKwh: 0, memSolids: 0, chem: 0, bwLoss: 0, tp: 0, po4: 0, tpSeries: [] as number[] };
  for (const i of idx) {
    const dt = s.t[i + 1]! - s.t[i]!;
    const e = s.effluent[i]!, qe = s.qe[i]!;
    const tss = tssOf(p, e), cod = codOf(e), tkn = tknOf(p, e), bod = bod5Of(p, e), sno = e[SNO]!, snh = e[SNH]!;
    eq += (2 * tss + cod + 30 * tkn + 10 * sno + 2 * bod) * qe * dt;
    const kla = s.kla[i]!;
    let aer = 0, mix = 0;
    for (let k = 0; k < 5; k++) {
      aer += BSM1.volumes[k]! * kla[k]!;
      if (kla[k]! < 20) mix += 0.005 * BSM1.volumes[k]!;
    }
    ae += aer * dt; me += mix * dt;
    pe += (0.004 * s.qint[i]! + 0.008 * s.qr[i]! + 0.05 * s.qw[i]!) * dt;
    wasteSs += s.wasteTss[i]! * s.qw[i]! * dt;
    effSs += tss * qe * dt;
    ec += s.qec[i]! * dt;
    qeSum += qe * dt; qint += s.qint[i]! * dt; kla5 += kla[4]! * dt;
    load.SNH += snh * qe * dt; load.SNO += sno * qe * dt; load.TKN += tkn * qe * dt; load.Ntot += (tkn + sno) * qe * dt;
    load.CODt += cod * qe * dt; load.BOD5 += bod * qe * dt; load.TSS += tss * qe * dt;
    series.SNH.push(snh); series.Ntot.push(tkn + sno); series.TSS.push(tss); series.CODt.push(cod); series.BOD5.push(bod);
    if (f) {
      extra.pu += f.qpu[i]! * dt; extra.primary += f.qpu[i]! * f.primarySludgeTss[i]! * dt;
      extra.memKwh += f.membraneKwh[i]! * dt; extra.memSolids += f.membraneSolids[i]! * dt; extra.chem += f.chemicalSludge[i]! * dt;
      extra.bwLoss += f.backwashLoss[i]! * dt; extra.tp += f.tp[i]! * qe * dt; extra.po4 += f.po4[i]! * qe * dt;
      extra.tpSeries.push(f.tp[i]!);
    }
  }
  const dtOf = (i: number): number => s.t[i + 1]! - s.t[i]!;
  const violation = (key: keyof typeof LIMITS): Violation => {
    let days = 0, occasions = 0, above = false;
    idx.forEach((i, j) => {
      const v = series[key][j]! > LIMITS[key];
      if (v) { days += dtOf(i); if (!above) occasions++; }
      above = v;
    });
    return { limit: LIMITS[key], percentOfTime: (days / tobs) * 100, days, occasions };
  };
  let SP = (s.tssInventory[iTo]! - s.tssInventory[iFrom]! + wasteSs) / tobs / 1000;
  const AE = (p.SOsat / (tobs * 1.8 * 1000)) * ae;
  let PE = pe / tobs;
  const ME = (24 * me) / tobs, EC = (BSM1.codEc * ec) / (tobs * 1000);
  let fullFigures: PerformanceFigures['full'];
  if (f) {
    const primaryPumping = (PRIMARY_CLARIFIER.pumpKwhPerM3 * extra.pu) / tobs;
    SP += (extra.primary + extra.memSolids + extra.chem) / tobs / 1000;
    PE += primaryPumping + extra.memKwh / tobs;
    let days = 0, occasions = 0, above = false;
    idx.forEach((i, j) => {
      const v = extra.tpSeries[j]! > TP_LIMIT;
      if (v) { days += dtOf(i); if (!above) occasions++; }
      above = v;
    });
    fullFigures = {
      effluentAvg: { TP: extra.tp / qeSum, PO4: extra.po4 / qeSum },
      percentile95TP: percentile95(extra.tpSeries),
      violationTP: { limit: TP_LIMIT, percentOfTime: (days / tobs) * 100, days, occasions },
      primarySludge: extra.primary / tobs / 1000, membraneSolids: extra.memSolids / tobs / 1000, chemicalSludge: extra.chem / tobs / 1000,
      primaryPumping, membraneEnergy: extra.memKwh / tobs, backwashLoss: extra.bwLoss / tobs,
    };
  }
  const flowAvg = (x: number): number => x / qeSum;
  return {
    window: [from, to],
    qe: qeSum / tobs,
    effluentAvg: {
      SNH: flowAvg(load.SNH), SNO: flowAvg(load.SNO), TKN: flowAvg(load.TKN), Ntot: flowAvg(load.Ntot),
      CODt: flowAvg(load.CODt), BOD5: flowAvg(load.BOD5), TSS: flowAvg(load.TSS),
    },
    EQI: eq / (tobs * 1000), AE, PE, SP, SPtotal: SP + effSs / tobs / 1000, EC, ME,
    OCI: AE + PE + 5 * SP + 3 * EC + ME,
    percentile95: { SNH: percentile95(series.SNH), Ntot: percentile95(series.Ntot), TSS: percentile95(series.TSS) },
    violations: { Ntot: violation('Ntot'), CODt: violation('CODt'), SNH: violation('SNH'), TSS: violation('TSS'), BOD5: violation('BOD5') },
    meanQint: qint / tobs, meanKla5: kla5 / tobs,
    ...(fullFigures ? { full: fullFigures } : {}),
  };
}
