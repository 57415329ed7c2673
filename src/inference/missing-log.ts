import type { Logger } from '../lib/logger.js';
import type { MissingInput } from './features.js';

/** What a window with missing inputs cost a model: a prediction not made, a partial verdict, no verdict. */
export type MissingOutcome = 'no_prediction' | 'partial_verdict' | 'no_verdict';

const MESSAGES: Record<MissingOutcome, string> = {
  no_prediction: 'no prediction published: inputs missing',
  partial_verdict: 'anomaly verdict from the inputs there: inputs missing',
  no_verdict: 'no anomaly verdict: every input missing',
};

/**
 * Windows whose model inputs were missing, logged at warn at most once per `periodMs` of wall time per
 * model and outcome: the first such window at once, later ones summed into the next line.
 */
export class MissingInputsLog {
  private readonly last = new Map<string, { at: number; windows: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly periodMs = 600_000,
  ) {}

  note(model: string, outcome: MissingOutcome, missing: readonly MissingInput[], windowEnd: number): void {
    const key = `${model} ${outcome}`;
    const now = this.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.periodMs) {
      seen.windows += 1;
      return;
    }
    const windows = (seen?.windows ?? 0) + 1;
    this.last.set(key, { at: now, windows: 0 });
    this.logger.warn({ model, outcome, missing, windowEnd: new Date(windowEnd).toISOString(), windows, periodSec: Math.round(this.periodMs / 1000) }, MESSAGES[outcome]);
  }
}
