import { codOf, N_COMP, SS, tssOf, XBA, XBH, XI, XP, XS } from './asm1.js';
import { BASE_TEMPERATURE, processEffect, type Fault } from './faults.js';
import { influentAt, type InfluentSeries } from './influent.js';
import { extendToFull, initialState } from './initial.js';
import { NO_INTEGRAL, N_LAYERS, N_STATE, N_STATE_FULL, PRIMARY, SETTLER_TSS, type PlantKind } from './layout.js';
import { emptyFullSamples, emptySamples, type PerformanceSamples } from './performance.js';
import { PRIMARY_CLARIFIER } from './primary.js';
import { BSM1, createPlant, defaultDrive, newView, type PlantModel, type PlantView } from './plant.js';
import { createRng, type Rng } from './rng.js';
import { stageFeeds, type PlantTruth } from './signals.js';
import { createSolver, type Solver } from './solver.js';
import { emptyStageOutputs, initialStages, stepStages, type StageOutputs, type StageState } from './stages.js';

/** The six supervisory loops as the twin's PLC layer applies them. */
export interface LoopSetpoints {
  /** Aerobic DO setpoint of the tank-5 KLa loop, mg/L. */
  do?: number;
  /** Internal recycle flow, m3/d: replaces the nitrate loop's output while set. */
  internal_recycle?: number;
  /** External carbon to the first anoxic tank, m3/d. */
  carbon_dose?: number;
  /** Coagulant dose, mg/L as Fe. */
  coagulant_dose?: number;
  /** Membrane backwash period, min. */
  backwash_interval?: number;
  /** Waste sludge flow, m3/d. */
  was_flow?: number;
}

/** The PLC's own setpoints (BSM1 defaults plus the side stages). */
export const LOCAL_SETPOINTS: Readonly<Required<Omit<LoopSetpoints, 'internal_recycle'>>> = Object.freeze({
  do: BSM1.doLoop.setpoint, carbon_dose: 0, coagulant_dose: 8, backwash_interval: 15, was_flow: BSM1.qw,
});

export interface EngineOptions {
  influent: InfluentSeries;
  seed: number;
  /** BSM1 sensor noise on the two PLC loop sensors (default true when not ideal). */
  noise: boolean;
  /** Ideal PLC sensors and actuators (no lags). */
  ideal: boolean;
  /** 'closed': BSM1 default PI loops; 'open': KLa5 = 84, Qint = 55338. */
  control: 'closed' | 'open';
  faults: readonly Fault[];
  initial?: Float64Array;
  solver?: { rtol?: number; atol?: number };
  /** 'bsm1' (default): the exact BSM1 plant; 'full': the nine stages of PRODUCT section 2 (docs/twin.md). */
  plant?: PlantKind;
}

export const TICK_DAYS = 1 / 1440;
const SAMPLE_TICKS = 15;

/** One plant run advanced minute by minute (the PLC's noise and the influent are held per minute). */
export interface Engine {
  readonly x: Float64Array;
  readonly plant: PlantModel;
  readonly truth: PlantTruth;
  readonly samples: PerformanceSamples;
  readonly rng: Rng;
  readonly solver: Solver;
  /** Plant time in days since the run start. */
  t(): number;
  /** Applies supervisory setpoints (undefined entries revert that loop to its local setpoint). */
  setLoops(sp: LoopSetpoints): void;
  tick(): void;
  /** Solids inventory of reactors and settler, g SS. */
  inventory(): number;
}

export function createEngine(opts: EngineOptions): Engine {
  const kind: PlantKind = opts.plant ?? 'bsm1';
  const full = kind === 'full';
  const drive = defaultDrive();
  const plant = createPlant(drive, undefined, kind);
  const base = opts.initial ? Float64Array.from(opts.initial) : initialState();
  const start = new Float64Array(N_COMP);
  const q0 = influentAt(opts.influent, 0, start);
  const x = full ? extendToFull(base, start, q0) : base.length === N_STATE ? base : base.slice(0, N_STATE);
  const solver = createSolver(full ? N_STATE_FULL : N_STATE, plant.deriv, { rtol: opts.solver?.rtol ?? 1e-7, atol: opts.solver?.atol ?? 1e-7 });
  const rng = createRng(opts.seed);
  const view: PlantView = newView();
  const stages: StageState = initialStages();
  const stageOut: StageOutputs = emptyStageOutputs();
  const influent = new Float64Array(N_COMP);
  const samples = emptySamples();
  if (full) samples.full = emptyFullSamples();
  const loops: LoopSetpoints = {};
  const noise = opts.noise && !opts.ideal;
  drive.ideal = opts.ideal;
  drive.doLoop = opts.control === 'closed';
  drive.noLoop = opts.control === 'closed';
  const truth: PlantTruth = {
    t: 0, x, view, drive, stages: stageOut, params: plant.params, influent, qIn: 0, coagulantDose: LOCAL_SETPOINTS.coagulant_dose,
    plant: kind, effluent: full ? stageOut.effluent : view.effluent, effluentFlow: 0, temperature: BASE_TEMPERATURE,
  };
  let n = 0;

  function inventory(): number {
    let m = 0;
    for (let k = 0; k < 5; k++) m += tssOf(plant.params, x, k * N_COMP) * BSM1.volumes[k]!;
    for (let j = 0; j < N_LAYERS; j++) m += x[SETTLER_TSS + j]! * BSM1.area * BSM1.layerHeight;
    if (full) m += tssOf(plant.params, x, PRIMARY) * PRIMARY_CLARIFIER.volume;
    return m;
  }

  function prepare(t: number, drawNoise: boolean): void {
    const fx = processEffect(opts.faults, t);
    const q = influentAt(opts.influent, t, influent);
    for (let c = 0; c < N_COMP; c++) drive.influent[c] = influent[c]! * (c === 0 ? 1 : fx.loadFactor);
    influent.set(drive.influent);
    drive.qIn = q;
    drive.aerationCap = fx.aerationCap;
    drive.muHFactor = fx.muHFactor;
    drive.muAFactor = fx.muAFactor;
    drive.settlingFactor = fx.settlingFactor;
    drive.doSetpoint = loops.do ?? LOCAL_SETPOINTS.do;
    drive.qec = loops.carbon_dose ?? LOCAL_SETPOINTS.carbon_dose;
    drive.qw = loops.was_flow ?? LOCAL_SETPOINTS.was_flow;
    if (opts.control === 'closed') {
      const manual = loops.internal_recycle !== undefined;
      if (drive.noLoop && manual) drive.qintManual = loops.internal_recycle!;
      else if (!drive.noLoop && !manual) {
        // Bumpless return to the nitrate loop: start its integral where the recycle flow is now.
        plant.observe(x, view);
        const e = drive.noSetpoint - view.noMeasured;
        x[NO_INTEGRAL] = view.qint - BSM1.noLoop.offset - BSM1.noLoop.K * e;
      }
      drive.noLoop = !manual;
      if (manual) drive.qintManual = loops.internal_recycle!;
    }
    if (drawNoise) {
      drive.noiseDo = noise ? BSM1.doLoop.sigma * rng.normal() : 0;
      drive.noiseNo = noise ? BSM1.noLoop.sigma * rng.normal() : 0;
    }
    truth.qIn = q;
    truth.temperature = fx.temperature;
    truth.coagulantDose = loops.coagulant_dose ?? LOCAL_SETPOINTS.coagulant_dose;
  }

  function sample(t: number): void {
    plant.observe(x, view);
    samples.t.push(t);
    samples.effluent.push(Float64Array.from(full ? stageOut.effluent : view.effluent));
    samples.qe.push(full ? stageOut.effluentFlow : view.qe); samples.qint.push(view.qint); samples.qr.push(drive.qr); samples.qw.push(drive.qw); samples.qec.push(drive.qec);
    samples.kla.push(Float64Array.from([drive.kla[0]!, drive.kla[1]!, drive.kla[2]!, drive.kla[3]!, view.kla5]));
    samples.wasteTss.push(tssOf(plant.params, view.underflow));
    samples.tssInventory.push(inventory());
    const f = samples.full;
    if (f) {
      f.qpu.push(view.qpu);
      f.primarySludgeTss.push(tssOf(plant.params, view.primaryUnderflow));
      f.membraneKwh.push(stageOut.membraneKwhPerDay);
      f.membraneSolids.push(stageOut.membraneSolids);
      f.chemicalSludge.push(stageOut.chemicalSludge);
      f.backwashLoss.push(stageOut.backwashLoss);
      f.po4.push(stageOut.effluentPo4);
      f.tp.push(stageOut.effluentTp);
    }
  }

  function observe(t: number): void {
    plant.observe(x, view);
    truth.t = t;
    const fx = processEffect(opts.faults, t);
    const pOf = view.primaryOverflow;
    stepStages(stages, {
      full, tMin: Math.round(t * 1440), qIn: drive.qIn, codIn: codOf(influent), tssIn: tssOf(plant.params, influent),
      partCodIn: influent[XI]! + influent[XS]! + influent[XBH]! + influent[XBA]! + influent[XP]!, tpIn: stageFeeds.tpIn(truth),
      ssIn: influent[SS]!, qe: view.qe, secondary: view.effluent,
      po4Secondary: full ? Math.max(0, view.po4Effluent) : stageFeeds.po4Bio(truth),
      ...(full ? { primary: {
        codOut: codOf(pOf), tssOut: tssOf(plant.params, pOf), sludgeFlow: view.qpu, removal: view.primaryRemoval,
        po4Tank1: view.po4Tanks[0]!, ssTank1In: view.tank1In[SS]!,
      } } : {}),
      coagulantDose: truth.coagulantDose,
      dosingAvailable: fx.dosingAvailable, backwashIntervalMin: loops.backwash_interval ?? LOCAL_SETPOINTS.backwash_interval,
      foulingFactor: fx.foulingFactor,
    }, n === 0 ? 0 : 1, stageOut);
    truth.effluentFlow = full ? stageOut.effluentFlow : view.qe;
  }

  prepare(0, false);
  observe(0);
  sample(0);
  return {
    x, plant, truth, samples, rng, solver,
    t: () => n * TICK_DAYS,
    setLoops(sp) {
      for (const key of Object.keys(loops) as (keyof LoopSetpoints)[]) delete loops[key];
      Object.assign(loops, sp);
    },
    tick() {
      const t0 = n * TICK_DAYS;
      prepare(t0, true);
      solver.advance(x, t0, t0 + TICK_DAYS);
      n++;
      const t1 = n * TICK_DAYS;
      prepare(t1, false);
      observe(t1);
      if (n % SAMPLE_TICKS === 0) sample(t1);
    },
    inventory,
  };
}
