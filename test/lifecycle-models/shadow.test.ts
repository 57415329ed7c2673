import { describe, expect, it } from 'vitest';
import { lifecycleSchema } from '../../src/config/sections/lifecycle.js';
import { addConfirmed, addJudged, addRecent, addWindow, emptyRecent, emptyTally, judgeRollback, judgeRollbackBeside, judgeShadow, recentFigures, tallyFigures, type VersionTally } from '../../src/lifecycle/shadow.js';

const cfg = lifecycleSchema.parse({ shadow: { minSamples: 10 }, rollback: { minSamples: 10 } });
const KEY = 'aerobic.no3_n@15';

/** n predictions off the measured value by `error`, persistence off by 0.5 (alternating signs). */
function predictor(n: number, error: number): VersionTally {
  const t = emptyTally();
  for (let i = 0; i < n; i += 1) {
    const sign = i % 2 ? 1 : -1;
    addJudged(t, { model: 'm', key: KEY, dueMs: i * 300_000, predicted: 6 + sign * error, measured: 6, persistence: 6 - sign * 0.5 });
  }
  return t;
}

function detector(windows: number, flagEvery: number): VersionTally {
  const t = emptyTally();
  for (let i = 0; i < windows; i += 1) addWindow(t, flagEvery > 0 && i % flagEvery === 0, cfg.shadow.eventWindows);
  return t;
}

describe('judging a shadow run', () => {
  it('promotes a predictor at least as good as the active version over the same windows, and refuses a worse one', () => {
    const better = judgeShadow('predictor', tallyFigures(predictor(20, 0.25)), tallyFigures(predictor(20, 0.4)), cfg.shadow);
    expect(better.promote).toBe(true);
    expect(better.summary).toMatch(/^aerobic\.no3_n@15: live MSE skill 0\.750 \(MAE 0\.250, 20 compared\) at least the active version's 0\.360/);
    expect(judgeShadow('predictor', tallyFigures(predictor(20, 0.4)), tallyFigures(predictor(20, 0.4)), cfg.shadow).promote).toBe(true);
    const worse = judgeShadow('predictor', tallyFigures(predictor(20, 0.45)), tallyFigures(predictor(20, 0.4)), cfg.shadow);
    expect(worse.promote).toBe(false);
    expect(worse.summary).toContain("below the active version's 0.360");
    // within the configured slack it passes
    expect(judgeShadow('predictor', tallyFigures(predictor(20, 0.45)), tallyFigures(predictor(20, 0.4)), { ...cfg.shadow, skillSlack: 0.2 }).promote).toBe(true);
  });

  it('refuses a candidate that was not judged on enough predictions, and judges one without an active figure against persistence', () => {
    const few = judgeShadow('predictor', tallyFigures(predictor(5, 0)), tallyFigures(predictor(20, 0.4)), cfg.shadow);
    expect(few).toMatchObject({ promote: false, summary: 'not judged: no target had 10 compared predictions in the shadow period (most: 5)' });
    expect(judgeShadow('predictor', tallyFigures(predictor(20, 0.3)), null, cfg.shadow).promote).toBe(true);
    expect(judgeShadow('predictor', tallyFigures(predictor(20, 0.6)), null, cfg.shadow).summary).toContain('does not beat persistence');
  });

  it('judges a detector on its flag rate (against the bar of normal operation and the active one\'s) and on the confirmed events the active one caught', () => {
    const quiet = detector(100, 50);
    const active = detector(100, 25);
    expect(judgeShadow('autoencoder', tallyFigures(quiet), tallyFigures(active), cfg.shadow).promote).toBe(true);
    const noisy = judgeShadow('autoencoder', tallyFigures(detector(100, 10)), tallyFigures(active), cfg.shadow);
    expect(noisy.promote).toBe(false);
    expect(noisy.summary).toBe("flag rate 0.100 over 100 windows above the bar of normal operation 0.05; flag rate 0.100 over 100 windows above the active version's 0.040 + 0.01");
    // flagging every window beside an active version that does too is no promotion: the bar of normal operation holds
    const always = detector(100, 1);
    const alsoAlways = detector(100, 1);
    const both = judgeShadow('autoencoder', tallyFigures(always), tallyFigures(alsoAlways), cfg.shadow);
    expect(both.promote).toBe(false);
    expect(both.summary).toBe('flag rate 1.000 over 100 windows above the bar of normal operation 0.05');
    // a confirmed event: the active version flagged in its last windows, the blind candidate did not
    const blind = detector(100, 0);
    addWindow(active, true, cfg.shadow.eventWindows);
    addWindow(blind, false, cfg.shadow.eventWindows);
    addConfirmed(active);
    addConfirmed(blind);
    const missed = judgeShadow('autoencoder', tallyFigures(blind), tallyFigures(active), cfg.shadow);
    expect(missed.promote).toBe(false);
    expect(missed.summary).toBe('caught 0 of 1 confirmed events, the active version 1');
  });
});

describe('judging a promoted version for rollback', () => {
  it('rolls back when the recent live skill falls below the previous version\'s over the shadow period, not before it has enough samples', () => {
    const baseline = tallyFigures(predictor(20, 0.4));
    const recent = emptyRecent();
    const add = (n: number, error: number, from: number): void => {
      for (let i = 0; i < n; i += 1) {
        const sign = i % 2 ? 1 : -1;
        addRecent(recent, [{ model: 'm', key: KEY, dueMs: (from + i) * 300_000, predicted: 6 + sign * error, measured: 6, persistence: 6 - sign * 0.5 }], undefined, 0);
      }
    };
    add(9, 2, 0);
    expect(judgeRollback('predictor', recentFigures(recent), baseline, cfg.rollback)).toBeNull();
    add(1, 0.3, 9);
    expect(judgeRollback('predictor', recentFigures(recent), baseline, cfg.rollback)).toMatch(/^aerobic\.no3_n@15: live MSE skill -\d+\.\d+ over 10 compared below the previous version's 0\.360 in shadow less 0\.064$/);
    // the period slides: old samples leave it
    const fresh = emptyRecent();
    addRecent(fresh, [{ model: 'm', key: KEY, dueMs: 0, predicted: 9, measured: 6, persistence: 6.5 }], undefined, 0);
    addRecent(fresh, [], undefined, 1);
    expect(fresh.samples).toEqual([]);
  });

  it('beside the previous version, rolls back only when the previous one is not worse on any other target', () => {
    const OTHER = 'aerobic.nh4_n@60';
    /** n samples per target, each off the measured value by its error, persistence off by 0.5. */
    const recentOf = (errors: Record<string, number>, n = 10): ReturnType<typeof recentFigures> => {
      const r = emptyRecent();
      for (let i = 0; i < n; i += 1) {
        const sign = i % 2 ? 1 : -1;
        for (const [key, error] of Object.entries(errors)) {
          addRecent(r, [{ model: 'm', key, dueMs: i * 300_000, predicted: 6 + sign * error, measured: 6, persistence: 6 - sign * 0.5 }], undefined, 0);
        }
      }
      return recentFigures(r);
    };
    // worse on nitrate, far better on ammonium: going back would trade a small loss for a large one
    const traded = judgeRollbackBeside('predictor', recentOf({ [KEY]: 0.4, [OTHER]: 0.1 }), recentOf({ [KEY]: 0.25, [OTHER]: 2 }), cfg.rollback);
    expect(traded.why).toBeNull();
    expect(traded.kept).toBe("the previous version does worse beside it on aerobic.nh4_n@60: live MSE skill 0.960 against the previous version's -15.000");
    // worse on nitrate, as good on ammonium: it goes back
    const worse = judgeRollbackBeside('predictor', recentOf({ [KEY]: 0.4, [OTHER]: 0.1 }), recentOf({ [KEY]: 0.25, [OTHER]: 0.1 }), cfg.rollback);
    expect(worse.kept).toBeNull();
    expect(worse.why).toBe("aerobic.no3_n@15: live MSE skill 0.360 over 10 compared below the previous version's 0.750 beside it on the same windows less 0.050");
    // both forecast worse than persistence: 0.09 of skill apart is 4 % of MSE, within mseTolerance (10 %), nothing to go back for
    expect(judgeRollbackBeside('predictor', recentOf({ [KEY]: 0.735 }), recentOf({ [KEY]: 0.72 }), cfg.rollback)).toEqual({ why: null, kept: null });
    // the same version beside one far better: worse by more than 10 % of its MSE
    expect(judgeRollbackBeside('predictor', recentOf({ [KEY]: 0.735 }), recentOf({ [KEY]: 0.6 }), cfg.rollback).why).toMatch(/below the previous version's -0\.440 beside it on the same windows less 0\.144$/);
    // too few samples of the previous version beside it: nothing judged yet
    expect(judgeRollbackBeside('predictor', recentOf({ [KEY]: 0.4 }), recentOf({ [KEY]: 0.25 }, 9), cfg.rollback)).toEqual({ why: null, kept: null });
  });

  it('rolls back a detector whose flag rate rose above the previous version\'s', () => {
    const baseline = tallyFigures(detector(100, 25));
    const recent = emptyRecent();
    for (let i = 0; i < 20; i += 1) addRecent(recent, [], { ts: i, flagged: i % 4 === 0 }, 0);
    expect(judgeRollback('autoencoder', recentFigures(recent), baseline, cfg.rollback)).toBe("flag rate 0.250 over the last 20 windows above the previous version's 0.040 + 0.02 in shadow");
  });
});

describe('config', () => {
  it('switches auto-promotion on with the background retraining unless set', async () => {
    const { autoPromotes } = await import('../../src/config/sections/lifecycle.js');
    expect(autoPromotes(lifecycleSchema.parse({}))).toBe(false);
    expect(autoPromotes(lifecycleSchema.parse({ retrain: { enabled: true } }))).toBe(true);
    expect(autoPromotes(lifecycleSchema.parse({ retrain: { enabled: true }, shadow: { autoPromote: false } }))).toBe(false);
    expect(lifecycleSchema.parse({}).shadow.hours).toBe(24);
  });
});
