import { z } from 'zod';
import { scalerSchema } from '../training/scaler.js';

export const MANIFEST_FILE = 'manifest.json';
export const ONNX_FILE = 'model.onnx';

const nameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash, underscore');

/** One model input: a windowed plant feature, or a plain column of an offline CSV. */
export const modelInputSchema = z.union([
  z.string().min(1),
  z.object({ stage: z.string().min(1), signal: z.string().min(1), feature: z.string().min(1) }),
]);
export type ModelInput = z.infer<typeof modelInputSchema>;

export const modelOutputSchema = z.object({
  name: z.string().min(1),
  /** Symbolic dims, e.g. ["batch", 8]. */
  dims: z.array(z.union([z.string(), z.number().int().nonnegative()])),
  description: z.string().optional(),
});

/**
 * Steps a detector applies around the graph, in TypeScript, recorded so that the daemon and the
 * offline scorer do exactly what was fitted.
 */
export const detectorPostprocessSchema = z.object({
  /** Trailing mean over this many rows of each raw input before the graph (1 = none). */
  inputWindow: z.number().int().positive(),
  /** Trailing mean over this many rows of the graph's score (1 = none). */
  scoreWindow: z.number().int().positive(),
  /** Consecutive rows above the threshold before a row is flagged (1 = none). */
  persistence: z.number().int().positive(),
  /** threshold = quantile(training scores, thresholdQuantile) x thresholdMargin. */
  thresholdQuantile: z.number().min(0).max(1),
  thresholdMargin: z.number().positive(),
  /** Input smoothing kind: trailing mean over inputWindow rows, or EWMA with alpha 2/(inputWindow+1). Absent: mean. */
  inputFilter: z.enum(['mean', 'ewma']).optional(),
  /**
   * Row score: `sum` = the graph's score output; `max` = largest per-input reconstruction error divided
   * by that input's training residual RMS (`residualScale`), so a fault on one signal is not diluted.
   */
  aggregate: z.enum(['sum', 'max', 'ensemble']).optional(),
  residualScale: z.array(z.number().positive()).optional(),
  /**
   * `ensemble`: score = max(largest |standard score| of an input, residualWeight x the `max` score), so a
   * signal leaving its training range counts even where the autoencoder reconstructs it.
   */
  residualWeight: z.number().nonnegative().optional(),
  /** Rows a flag stays raised after the score falls back (alarm off-delay). Absent: 0. */
  hold: z.number().int().nonnegative().optional(),
  /** Drift guard used at fit time (noise widths a level may travel in training), when finite. */
  driftRatio: z.number().positive().optional(),
  /** Columns left out at fit time because their level trended through the training rows. */
  driftExcluded: z.array(z.string()).optional(),
});
export type DetectorPostprocess = z.infer<typeof detectorPostprocessSchema>;

/** Range of one signal's window means in the training block (drift checks compare live data with it). */
export const signalRangeSchema = z.object({
  n: z.number().int().nonnegative(),
  min: z.number(),
  max: z.number(),
  /** `p1`, `p10` .. `p90`, `p99`. */
  quantiles: z.record(z.string(), z.number()),
});

/**
 * The plant data a bundle learnt from (bundles trained on a plant's history; absent in older ones):
 * the training block's first and last window end, the time-blocked held-out block after it (the
 * manifest's `metrics` are measured there), and each input and target signal's range.
 */
export const learntFromSchema = z.object({
  first: z.iso.datetime(),
  last: z.iso.datetime(),
  heldOut: z.object({ first: z.iso.datetime(), last: z.iso.datetime(), windows: z.number().int().nonnegative(), rule: z.string() }).optional(),
  signals: z.record(z.string(), signalRangeSchema),
});
export type LearntFrom = z.infer<typeof learntFromSchema>;

/**
 * Predictors: whether each target and horizon beat the bar on the held-out block (MSE skill over
 * persistence), keyed `stage.signal@+Hm`. An ineligible target is not published where the bundle runs.
 */
export const eligibilitySchema = z.object({
  bar: z.number(),
  /** Horizons the bar applies to; a target is eligible only if it meets the bar at every one of them. */
  barHorizonsMin: z.array(z.number().int().positive()),
  targets: z.record(z.string(), z.object({ eligible: z.boolean(), mseSkill: z.number().nullable(), reason: z.string() })),
});
export type Eligibility = z.infer<typeof eligibilitySchema>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(1),
  name: nameSchema,
  version: nameSchema,
  kind: z.enum(['autoencoder', 'predictor', 'detector']),
  /** Ordered: column j of the graph input is inputs[j]. */
  inputs: z.array(modelInputSchema).min(1),
  /** Graph input tensor name ([batch, inputs.length], float32, raw engineering units). */
  graphInput: z.string().min(1),
  outputs: z.array(modelOutputSchema).min(1),
  /** Predictors: the targets, in the order of the prediction columns. */
  targets: z.array(modelInputSchema).optional(),
  /** Folded into the graph already; recorded for audit and for explaining contributions. */
  scaler: scalerSchema,
  outputScaler: scalerSchema.optional(),
  /** Score above which a row is anomalous (autoencoders and detectors). */
  threshold: z.number().nonnegative().optional(),
  postprocess: detectorPostprocessSchema.optional(),
  /** Measured on held-out rows (never the rows the weights were fitted on). */
  metrics: z.record(z.string(), z.number()),
  training: z.object({
    source: z.string(),
    rows: z.number().int().nonnegative(),
    seed: z.number().int(),
    split: z.object({
      mode: z.enum(['tail', 'random']),
      trainRows: z.number().int().nonnegative(),
      validationRows: z.number().int().nonnegative(),
    }),
    epochs: z.number().int().nonnegative(),
    layers: z.array(z.object({ units: z.number().int().positive(), activation: z.enum(['relu', 'tanh', 'sigmoid', 'linear']) })),
    /** Offline detectors: rows each fitting step used (read, skipped for a missing input, scaler and threshold, network sample). */
    rowsUsed: z.record(z.string(), z.number().int().nonnegative()).optional(),
    /** Offline detectors: every column of the file that is not an input, with the reason. */
    leftOut: z.array(z.object({ column: z.string(), reason: z.string() })).optional(),
    /**
     * Stage detectors trained on a plant's history: what the operators' verdicts on the stage's alarms
     * gave (src/models/verdicts.ts): false-alarm episodes and their training windows learnt as normal (each
     * repeated `falseAlarmWeight` times in the network's rows), confirmed episodes and their windows left
     * out of the normal training and held-out data.
     */
    verdicts: z.object({
      falseAlarms: z.number().int().nonnegative(),
      falseAlarmWindows: z.number().int().nonnegative(),
      falseAlarmWeight: z.number().int().nonnegative(),
      confirmed: z.number().int().nonnegative(),
      confirmedWindows: z.number().int().nonnegative(),
    }).optional(),
  }),
  learntFrom: learntFromSchema.optional(),
  eligibility: eligibilitySchema.optional(),
  createdAt: z.iso.datetime(),
  onnx: z.object({
    file: z.literal(ONNX_FILE),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    opset: z.number().int().positive(),
    bytes: z.number().int().positive(),
  }),
  tfjsBackend: z.enum(['tfjs-node', 'tfjs']),
  verification: z.object({
    /** Engineering-unit outputs are compared after dividing by their scale. */
    maxAbsDiff: z.number().nonnegative(),
    tolerance: z.number().positive(),
    rows: z.number().int().positive(),
    runtime: z.literal('onnxruntime-node'),
  }),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** The caller's part of a manifest; the ONNX file facts are filled in when the bundle is written. */
export type ManifestDraft = Omit<Manifest, 'onnx' | 'schemaVersion'> & { readonly opset: number };

export function inputLabel(input: ModelInput): string {
  return typeof input === 'string' ? input : `${input.stage}.${input.signal}.${input.feature}`;
}
