/** Event-level scoring of detections against fault ground truth (definitions in docs/evaluation.md). */

export interface TruthEvent {
  readonly kind: string;
  readonly stage: string;
  readonly signal: string | null;
  readonly start: number;
  readonly end: number;
}

/** Consecutive anomalous windows (any stage) merged into one episode. */
export interface Episode {
  readonly start: number;
  readonly end: number;
  readonly firstDetection: number;
}

export interface EventOutcome {
  readonly event: TruthEvent;
  readonly detected: boolean;
  /** First anomalous window end inside [start, end + grace] minus start, ms. */
  readonly delayMs: number | null;
}

export interface Score {
  readonly events: EventOutcome[];
  readonly episodes: number;
  readonly truePositiveEpisodes: number;
  readonly falsePositiveEpisodes: number;
  readonly precision: number;
  readonly recall: number;
  readonly medianDelayMin: number;
}

/**
 * Windows are [end - size, end). Episodes join anomalous windows whose ends are at most one slide apart.
 */
export function episodesOf(anomalousEnds: readonly number[], windowMs: number, slideMs: number): Episode[] {
  const ends = [...new Set(anomalousEnds)].sort((a, b) => a - b);
  const out: Episode[] = [];
  let current: { start: number; end: number; first: number } | undefined;
  for (const end of ends) {
    if (current && end - current.end <= slideMs) current.end = end;
    else {
      if (current) out.push({ start: current.start, end: current.end, firstDetection: current.first });
      current = { start: end - windowMs, end, first: end };
    }
  }
  if (current) out.push({ start: current.start, end: current.end, firstDetection: current.first });
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/**
 * An event is detected when an anomalous window ends inside [start, end + grace]; its delay runs from
 * the event start to the first such window end. An episode that overlaps no [start, end + grace] of
 * any event is a false positive.
 */
export function scoreDetections(events: readonly TruthEvent[], anomalousEnds: readonly number[], windowMs: number, slideMs: number, graceMs: number): Score {
  const sorted = [...new Set(anomalousEnds)].sort((a, b) => a - b);
  const outcomes = events.map((event): EventOutcome => {
    const hit = sorted.find((t) => t > event.start && t <= event.end + graceMs);
    return { event, detected: hit !== undefined, delayMs: hit === undefined ? null : hit - event.start };
  });
  const episodes = episodesOf(sorted, windowMs, slideMs);
  const tp = episodes.filter((ep) => events.some((e) => ep.end > e.start && ep.start < e.end + graceMs)).length;
  const detected = outcomes.filter((o) => o.detected);
  return {
    events: outcomes,
    episodes: episodes.length,
    truePositiveEpisodes: tp,
    falsePositiveEpisodes: episodes.length - tp,
    precision: episodes.length > 0 ? tp / episodes.length : 1,
    recall: events.length > 0 ? detected.length / events.length : 1,
    medianDelayMin: median(detected.map((o) => (o.delayMs ?? 0) / 60_000)),
  };
}
