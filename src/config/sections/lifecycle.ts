import { z } from 'zod';

/**
 * When the daemon asks for a model to be retrained (`models.lifecycle`). Each trigger can be switched off;
 * a trigger that fires is logged at info and published on `edge/models` as the model's last event
 * ("retraining requested: <reason>").
 */
export const lifecycleSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * How often (wall seconds) the live figures are published on the retained `edge/models`, the triggers
     * judged and the lifecycle state saved; an activation, rollback or trigger publishes at once.
     */
    publishSec: z.number().positive().default(60),
    /** Live skill against the model's held-out metrics, over the 7-day window. */
    skill: z
      .object({
        enabled: z.boolean().default(true),
        /** 7-day MAPE above held-out MAPE x (1 + this). */
        mapeRise: z.number().nonnegative().default(0.1),
        /** 7-day R2 below held-out R2 by more than this. */
        r2Drop: z.number().nonnegative().default(0.05),
        /** Compared samples the 7-day window needs before it is judged. */
        minSamples: z.number().int().positive().default(100),
      })
      .strict()
      .prefault({}),
    /** Input drift: population stability index of the live inputs against the training distribution. */
    drift: z
      .object({
        enabled: z.boolean().default(true),
        /** PSI above this names the input as moved (0.25: a significant shift by the usual rule). */
        psi: z.number().positive().default(0.25),
        /** Live values an input needs over the window before it is judged. */
        minSamples: z.number().int().positive().default(50),
        /**
         * Plant days those values must span before the input is judged: a few hours of a diurnal signal
         * (influent flow after a start) differ from its whole-day training distribution without any drift.
         */
        minDays: z.number().nonnegative().default(1),
      })
      .strict()
      .prefault({}),
    /** Retrain on a schedule: this many days (plant time) after the version was activated on this site. */
    schedule: z
      .object({ enabled: z.boolean().default(true), days: z.number().positive().default(30) })
      .strict()
      .prefault({}),
    /** Retrain when this many new windows arrived since the version was trained. */
    newWindows: z
      .object({ enabled: z.boolean().default(true), windows: z.number().int().positive().default(1000) })
      .strict()
      .prefault({}),
    /** Retrain a detector when operators marked this many of its alarms as false over 7 days. */
    falseAlarms: z
      .object({ enabled: z.boolean().default(true), count: z.number().int().positive().default(5) })
      .strict()
      .prefault({}),
    /**
     * The quality gate of `wwtp-edge models activate --from-store`: the candidate against the active version
     * on the most recent held-out block of the store (src/lifecycle/gate.ts).
     */
    gate: z
      .object({
        /** The block: the store's last `heldOutDays` days, never before the candidate's own held-out block. */
        heldOutDays: z.number().positive().default(7),
        /** Every predictor target must reach this MSE skill over persistence (0: beat persistence). */
        minSkill: z.number().max(1).default(0),
        /** A target's MSE may exceed the active version's by this share at most (not worse). */
        tolerance: z.number().nonnegative().default(0.02),
        /** A detector's flagged share may exceed the active one's by this much at most (0.01 = 1 point). */
        flagRateSlack: z.number().nonnegative().default(0.01),
        /** A detector flagging more than this share of the block's windows is refused, whatever the active one flags: the block is mostly normal operation. */
        maxFlagRate: z.number().min(0).max(1).default(0.05),
      })
      .strict()
      .prefault({}),
    /**
     * Retraining in the background (src/lifecycle/retrain.ts): a trigger that starts firing starts
     * `train autoencoder|predictors` from the daemon's own store as a child process at low priority, into
     * `<models.dir>/candidates/<name>/<version>`, then the quality gate above in the same child; the
     * candidate and gate rows go into model_events and on `edge/models`, a failed gate raises the low
     * alarm `models.gate.<name>`. A passing candidate stays a candidate (not activated).
     */
    retrain: z
      .object({
        enabled: z.boolean().default(false),
        /** Training children at a time; further requests wait (one per model kind at most). */
        maxConcurrent: z.number().int().positive().max(4).default(1),
        /** The child's niceness (0 to 19; 19 the lowest priority). */
        nice: z.number().int().min(0).max(19).default(10),
        /** The child's V8 heap limit (--max-old-space-size), in MiB. */
        maxHeapMb: z.number().int().min(128).default(768),
        /** A child still running after this many minutes is killed (its candidate is not kept). */
        timeoutMin: z.number().positive().default(120),
        /** After a retraining of a model, later triggers of the same model wait this many hours (wall time). */
        cooldownHours: z.number().positive().optional(),
        /**
         * A version whose triggers keep firing is asked for again this many plant days after its last request
         * (its candidate was refused, or none could be made from the history then); null: only when a trigger
         * starts firing.
         */
        retryDays: z.number().positive().nullable().default(1),
      })
      .strict()
      .prefault({}),
    /**
     * Shadow, then promotion (src/lifecycle/promotion.ts): a candidate that passed the gate runs beside the
     * active version on the live windows for `hours` of plant time; its outputs go into the table
     * `shadow_outputs`, never on the prediction, anomaly or alarm topics nor to control. At the end it is
     * promoted (atomic swap, registry.json history) when its live skill over the period is at least the
     * active version's, else rejected. `autoPromote` unset: on when `retrain.enabled` is.
     */
    shadow: z
      .object({
        autoPromote: z.boolean().optional(),
        /** The shadow period, hours of plant time (the windows' event time). */
        hours: z.number().positive().default(24),
        /** Compared predictions per target (predictors) or scored windows (detectors) a version needs to be judged. */
        minSamples: z.number().int().positive().default(50),
        /** The candidate's MSE skill over persistence may be this much below the active version's, per target. */
        skillSlack: z.number().nonnegative().default(0),
        /** A detector candidate's flag rate may exceed the active one's by this much (0.01 = 1 point). */
        flagRateSlack: z.number().nonnegative().default(0.01),
        /** A detector candidate flagging more than this share of its shadow windows is not promoted, whatever the active one flags. */
        maxFlagRate: z.number().min(0).max(1).default(0.05),
        /** A confirmed event counts as caught by a version that flagged one of its last this many windows before the verdict. */
        eventWindows: z.number().int().positive().default(24),
      })
      .strict()
      .prefault({}),
    /**
     * Automatic rollback of a promoted version: judged on every window for `watchHours` of plant time after
     * the promotion; its live skill over the last `hours` below the previous version's over the shadow period
     * (by more than `skillSlack` and more than `mseTolerance` of its MSE), a detector's flag rate above it (by more than `flagRateSlack`), or
     * `failures` failed inferences in a row roll it back to the previous version, with the alarm
     * `model.rollback.<name>`.
     */
    rollback: z
      .object({
        enabled: z.boolean().default(true),
        /** The period the promoted version's live skill is judged over, hours of plant time. */
        hours: z.number().positive().default(24),
        /** How long after its promotion a version is watched, hours of plant time. */
        watchHours: z.number().positive().default(168),
        /** Compared predictions per target (or scored windows) over `hours` before the skill is judged. */
        minSamples: z.number().int().positive().default(50),
        skillSlack: z.number().nonnegative().default(0.05),
        /**
         * A target counts as worse only if its MSE is also above the previous version's by more than this share
         * (in skill: a drop of more than mseTolerance x (1 - the previous skill)), so two versions that both
         * forecast a stretch of plant badly are not told apart by noise.
         */
        mseTolerance: z.number().nonnegative().default(0.1),
        flagRateSlack: z.number().nonnegative().default(0.02),
        /** Failed inferences in a row (windows) that roll back at once. */
        failures: z.number().int().positive().default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Shadow and promotion run when switched on, else whenever retraining runs in the background. */
export const autoPromotes = (cfg: LifecycleConfig): boolean => cfg.shadow.autoPromote ?? cfg.retrain.enabled;

export type LifecycleConfig = z.infer<typeof lifecycleSchema>;
