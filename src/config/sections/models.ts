import { z } from 'zod';

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
  })
  .strict();

export type ModelsConfig = z.infer<typeof modelsSchema>;
export type SensorChecksConfig = z.infer<typeof sensorChecksSchema>;
export type FlowBalanceConfig = z.infer<typeof flowBalanceSchema>;
