import type { EdgeConfig } from '../config/schema.js';
import { OnlineDetector, manifestScoring } from '../anomaly/online.js';
import { buildInputVector } from '../inference/features.js';
import { loadVerifiedModel, runSession, type LoadedModel } from '../inference/session.js';
import { judgedAlarms, storeReadings, windowReadings, type JudgedAlarm } from './store-data.js';
import { alarmLeadMs, episodeWindows, stageVerdicts } from './verdicts.js';

/** One judged alarm episode replayed through a detector: did it flag a window of it. */
export interface EpisodeReplay {
  readonly alarmId: string;
  /** The episode's raise (ms). */
  readonly start: number;
  readonly verdict: 'false_alarm' | 'confirmed';
  /** Windows of the episode with every input there, scored. */
  readonly windows: number;
  /** Whether the detector flagged at least one of them (what raises the stage's alarm again). */
  readonly flagged: boolean;
}

/** A detector over every episode of its stage the operators judged, anywhere in the store. */
export interface JudgedFigures {
  readonly model: string;
  readonly stage: string;
  /** False alarms of the stage's detector alarm with windows to score, and how many the detector raises again. */
  readonly falseAlarms: number;
  readonly falseAlarmsRaised: number;
  /** Confirmed events of the stage with windows to score, and how many the detector catches. */
  readonly confirmed: number;
  readonly confirmedCaught: number;
  readonly episodes: readonly EpisodeReplay[];
}

export interface JudgedOptions {
  readonly config: Pick<EdgeConfig, 'windows' | 'signals'> & { readonly alarms?: Pick<EdgeConfig['alarms'], 'onDelaySec'> | undefined };
  readonly store: string;
}

async function replay(model: LoadedModel, alarm: JudgedAlarm, opts: JudgedOptions, lead: number): Promise<EpisodeReplay> {
  const { from, to } = episodeWindows(alarm, lead);
  const sizeMs = opts.config.windows.sizeSec * 1000;
  const until = to === Number.MAX_SAFE_INTEGER ? undefined : to;
  const windows = windowReadings(opts.config, storeReadings(opts.store, { since: from - sizeMs, ...(until !== undefined ? { until } : {}) }))
    .filter((w) => w.end >= from && w.end < to);
  // A fresh detector per episode, as the stage detector starts on the first window of a day's stream.
  const detector = new OnlineDetector(manifestScoring(model.manifest));
  const width = model.inputs.length;
  let scored = 0;
  let flagged = false;
  for (const w of windows) {
    const v = buildInputVector(w, model.inputs);
    if (!v.ok) continue;
    scored += 1;
    const verdict = await detector.next(v.values, async (input) => {
      const out = await runSession(model.session, input, width);
      return { squaredError: out['squared_error'] ?? new Float32Array(width), standardized: out['standardized'] };
    });
    if (verdict.flag) flagged = true;
  }
  return { alarmId: alarm.alarmId, start: alarm.start, verdict: alarm.verdict, windows: scored, flagged };
}

/**
 * Every detector bundle of `dirs` over the alarm episodes its stage's operators judged (the whole store:
 * training block, held-out block and after): false alarms it would raise again, confirmed events it
 * catches. Episodes with no window to score are left out of the counts.
 */
export async function judgeEpisodes(dirs: readonly string[], opts: JudgedOptions): Promise<JudgedFigures[]> {
  const alarms = judgedAlarms(opts.store, {});
  const out: JudgedFigures[] = [];
  if (alarms.length === 0) return out;
  const lead = alarmLeadMs(opts.config);
  for (const dir of dirs) {
    const model = await loadVerifiedModel(dir, { intraOpThreads: 1 });
    try {
      if (model.kind === 'predictor' || !model.stage) continue;
      const { falseAlarms, confirmed } = stageVerdicts(alarms, model.stage);
      const episodes: EpisodeReplay[] = [];
      for (const a of [...falseAlarms, ...confirmed]) {
        const r = await replay(model, a, opts, lead);
        if (r.windows > 0) episodes.push(r);
      }
      const of = (verdict: EpisodeReplay['verdict']): EpisodeReplay[] => episodes.filter((e) => e.verdict === verdict);
      out.push({
        model: model.id, stage: model.stage, episodes,
        falseAlarms: of('false_alarm').length, falseAlarmsRaised: of('false_alarm').filter((e) => e.flagged).length,
        confirmed: of('confirmed').length, confirmedCaught: of('confirmed').filter((e) => e.flagged).length,
      });
    } finally {
      await model.session.release();
    }
  }
  return out;
}
