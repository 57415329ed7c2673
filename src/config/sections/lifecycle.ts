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
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type LifecycleConfig = z.infer<typeof lifecycleSchema>;
