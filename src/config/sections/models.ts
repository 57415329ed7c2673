import { z } from 'zod';
import { LOOP_IDS, type LoopId } from '../../contract/plant.js';
import { lifecycleSchema } from './lifecycle.js';

/** A signal as `stage.signal`. */
const signalKey = z.string().regex(/^[a-z_]+\.[a-z0-9_]+$/);

/** Flows (`stage.signal`, same unit) that must balance over a window: inflow = sum of the outflows. */
export const flowBalanceSchema = z
  .object({
    id: z.string().min(1),
    inflow: z.array(signalKey).min(1),
    outflow: z.array(signalKey).min(1),
    /** Largest |inflow - outflow| / inflow of a healthy window (storage, meter accuracy, backwash water). */
    tolerance: z.number().positive().max(1),
    /** Below this inflow (standstill) the balance is not judged. */
    minInflow: z.number().nonnegative().default(1),
  })
  .strict();

/**
 * Analyzer plausibility: dissolved species cannot add up to more than the total they belong to
 * (NH4-N + NO3-N <= TN, PO4-P <= TP). A part's analyzer drifting up, or the total's drifting down,
 * breaks it, where each signal's own history still looks normal.
 */
export const speciesSumSchema = z
  .object({
    id: z.string().min(1),
    parts: z.array(signalKey).min(1),
    total: signalKey,
    /** Share of the total the parts' sum may exceed it by in a healthy window (analyzer accuracy, lag). */
    tolerance: z.number().nonnegative().max(1),
    /** Below this total (in its unit) the sum is not judged: small totals give large shares. */
    minTotal: z.number().nonnegative().default(1),
  })
  .strict();

/**
 * A loop's measured value against the setpoints the daemon published for it: a measurement that stays
 * away from every setpoint in effect (a biased or drifting probe the PLC does not control on, a blower at
 * its limit, a broken actuator) while the daemon holds the loop.
 */
export const loopDeviationSchema = z
  .object({
    loop: z.enum(LOOP_IDS as [LoopId, ...LoopId[]]),
    /** The loop's measured value, `stage.signal`, in the loop's unit. */
    signal: signalKey,
    /** Largest healthy distance between the window mean and the setpoints in effect, in the loop's unit. */
    band: z.number().positive(),
    /** The distance must last this long (event time) before it is flagged. */
    forSec: z.number().nonnegative().default(600),
    /** A flagged deviation clears once the value has been back within the band this long. */
    clearSec: z.number().nonnegative().default(1800),
    /** Setpoints published this long before the window still count: the PLC and the process need time to follow. */
    settleSec: z.number().nonnegative().default(900),
    /**
     * The loop's actuator feedback (`stage.signal`, e.g. the air flow of the DO loop): while it sits at the
     * lowest or highest level it had over `actuatorHistorySec`, a deviation is the plant's capacity (blowers
     * at minimum turndown at night, at full output in a storm), not a fault, and is not judged.
     */
    actuator: signalKey.optional(),
    /** "At a limit": within this share of the actuator's seen range from its lowest or highest level. */
    actuatorMargin: z.number().nonnegative().lt(0.5).default(0.05),
    actuatorHistorySec: z.number().positive().default(7 * 86_400),
  })
  .strict();

/**
 * A quantity leaving its own recent level in one direction while the load that explains such a move did
 * not rise, e.g. the peak TMP per unit of flux rising under steady flux (membrane fouling). Judged on one
 * window feature of a signal, optionally divided by another signal's window mean.
 */
export const levelShiftSchema = z
  .object({
    id: z.string().min(1),
    signal: signalKey,
    /** Which window feature of the signal: mean, max, min or last. */
    feature: z.enum(['mean', 'max', 'min', 'last']).default('mean'),
    /** Divide by this signal's window feature (`stage.signal`), e.g. TMP per flux. */
    per: signalKey.optional(),
    /**
     * Which feature of `per`. For peak TMP per flux take the peak flux: a window mean also averages in the
     * backwash minutes, so the ratio would follow how often the membrane backwashes, not how it fouls.
     */
    perFeature: z.enum(['mean', 'max', 'min', 'last']).default('mean'),
    direction: z.enum(['rise', 'fall']),
    /** Share of the baseline level the quantity must move, e.g. 0.15 for 15 %. */
    change: z.number().positive(),
    /** Baseline: median of the window values over this long before the confirmation period. */
    baselineSec: z.number().positive().default(7200),
    /** The median of the window values over this long must stay beyond the line. */
    confirmSec: z.number().positive().default(900),
    /** ... and beyond the baseline by this many standard errors of that median (robust sigma of the baseline). */
    sigmas: z.number().nonnegative().default(3),
    /** The load (`stage.signal`) whose rise explains the move; none: every move counts. */
    load: signalKey.optional(),
    /** A load above (1 + loadRise) x its baseline median suspends the judgement. */
    loadRise: z.number().positive().default(0.2),
    /** Baseline of the load, longer: a storm's flux stays high for hours. */
    loadBaselineSec: z.number().positive().default(21600),
  })
  .strict();

/** Sensor-level checks that complement the autoencoder (src/inference/sensor-checks.ts). */
export const sensorChecksSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Stuck: this many identical consecutive readings, on a signal that normally moves. */
    stuckPeriods: z.number().positive().default(5),
    /** Spike: a one-off excursion inside a window beyond this many robust sigmas. */
    spikeSigmas: z.number().positive().default(6),
    /**
     * Signals (`stage.signal`) that follow a supervisory setpoint by design: a step when the setpoint moves
     * is no spike, so the spike and jump checks skip them (stuck and out of band still apply).
     */
    actuated: z
      .array(z.string())
      .default([
        'anoxic.internal_recycle_flow',
        'anoxic.carbon_dose_flow',
        'secondary.was_flow',
        'phosphorus.coagulant_flow',
        'aerobic.airflow',
        'aerobic.kla',
        'aerobic.do',
        'aerobic.do_zone3',
        'membrane.tmp',
        'membrane.flux',
        'membrane.permeate_flow',
        'membrane.permeability',
        'membrane.backwash',
        // The plant's outflow follows the pumps upstream: primary sludge cycles and the wasting flow.
        'effluent.flow',
      ]),
    /**
     * Hydraulic balances; the default is the plant's: influent = effluent + waste sludge + primary sludge,
     * within 30 % per window (healthy windows of the twin stay within 11 %). Plants with a storm tank or
     * an equalisation basin set their own, or [].
     */
    flowBalances: z
      .array(flowBalanceSchema)
      .default([{ id: 'plant', inflow: ['influent.flow'], outflow: ['effluent.flow', 'secondary.was_flow', 'primary.sludge_flow'], tolerance: 0.3, minInflow: 1 }]),
    /** Analyzer plausibility; the default: effluent NH4-N + NO3-N within 10 % of TN (healthy twin: 4 % at most). */
    speciesSums: z
      .array(speciesSumSchema)
      .default([{ id: 'effluent_nitrogen', parts: ['effluent.nh4_n', 'effluent.no3_n'], total: 'effluent.tn', tolerance: 0.1, minTotal: 2 }]),
    /** Loops whose measured value must follow the published setpoints (none unless listed). */
    loopDeviations: z
      .array(loopDeviationSchema)
      .default([{ loop: 'do', signal: 'aerobic.do', band: 0.6, forSec: 600, clearSec: 1800, settleSec: 900, actuator: 'aerobic.airflow', actuatorMargin: 0.05, actuatorHistorySec: 604_800 }]),
    /** Level shifts not explained by their load; the default watches membrane fouling. */
    levelShifts: z
      .array(levelShiftSchema)
      .default([{ id: 'membrane_fouling', signal: 'membrane.tmp', feature: 'max', per: 'membrane.flux', perFeature: 'max', direction: 'rise', change: 0.15, baselineSec: 7200, confirmSec: 900, sigmas: 3, load: 'membrane.flux', loadRise: 0.2, loadBaselineSec: 21600 }]),
    /** Jump: the window mean moved by more than this many times the 95th percentile of its usual moves. */
    jumpFactor: z.number().positive().default(16),
    /** Out of band: window mean outside the operating band for at least this long (event time). */
    outOfRangeSec: z.number().nonnegative().default(300),
    /** Fixed operating bands, key `stage.signal`; they win over the bands the anomaly models learned. */
    bands: z.record(z.string(), z.object({ min: z.number(), max: z.number() }).strict()).default({}),
    /** Windows of history each signal keeps for its robust statistics. */
    historyWindows: z.number().int().positive().default(36),
    /** Windows of history before stuck/spike judge a signal. */
    warmupWindows: z.number().int().positive().default(6),
  })
  .strict();

export const modelsSchema = z
  .object({
    /** Folder with bundles models/<name>/<version>/ and the registry state (registry.json). */
    dir: z.string().default('models'),
    /** Run inference at all (off: indicators and control without models). */
    enabled: z.boolean().default(true),
    intraOpThreads: z.number().int().positive().default(1),
    /** How often the daemon looks at registry.json for activations made by `wwtp-edge models`. */
    registryPollSec: z.number().positive().default(5),
    sensorChecks: sensorChecksSchema.prefault({}),
    /** Live skill, drift and the retraining triggers (src/lifecycle). */
    lifecycle: lifecycleSchema.prefault({}),
  })
  .strict();

export type ModelsConfig = z.infer<typeof modelsSchema>;
export type SensorChecksConfig = z.infer<typeof sensorChecksSchema>;
export type FlowBalanceConfig = z.infer<typeof flowBalanceSchema>;
export type SpeciesSumConfig = z.infer<typeof speciesSumSchema>;
export type LoopDeviationConfig = z.infer<typeof loopDeviationSchema>;
export type LevelShiftConfig = z.infer<typeof levelShiftSchema>;
