/**
 * On/off delays per condition (pure): a condition must be reported present for onDelay before it is
 * raised, and absent for offDelay before it is cleared, so a signal hovering at a limit does not chatter.
 */
export interface Debounce {
  /** What the alarm module last passed on: raised or not. */
  readonly raised: boolean;
  /** What the source reports now. */
  readonly present: boolean;
  /** Event time since which `present` differs from `raised`. */
  readonly since?: number | undefined;
}

export type DebounceOutput = 'raise' | 'clear' | undefined;

export function report(d: Debounce, present: boolean, ts: number): Debounce {
  if (present === d.present) return d;
  return { raised: d.raised, present, since: present === d.raised ? undefined : ts };
}

/** Advances the delays to time `now`; emits when a pending change has held long enough. */
export function settle(d: Debounce, now: number, onDelayMs: number, offDelayMs: number): { debounce: Debounce; output: DebounceOutput } {
  if (d.present === d.raised || d.since === undefined) return { debounce: d, output: undefined };
  const delay = d.present ? onDelayMs : offDelayMs;
  if (now - d.since < delay) return { debounce: d, output: undefined };
  return { debounce: { raised: d.present, present: d.present }, output: d.present ? 'raise' : 'clear' };
}
