/**
 * Flood control (pure): more than `limit` new alarms within `windowMs` starts a flood; while it lasts,
 * new alarms are suppressed and counted. The flood ends when the window holds no more than `limit`
 * new-alarm attempts.
 */
export interface Flood {
  /** Event times of recent new-alarm attempts (raised or suppressed), oldest first. */
  readonly recent: readonly number[];
  readonly active: boolean;
  readonly suppressed: number;
  readonly since?: number | undefined;
}

export const emptyFlood: Flood = { recent: [], active: false, suppressed: 0 };

function prune(recent: readonly number[], now: number, windowMs: number): number[] {
  return recent.filter((t) => t > now - windowMs && t <= now + windowMs);
}

/** A new alarm wants to go active at ts: allow it, or suppress it (possibly starting the flood). */
export function admit(f: Flood, ts: number, limit: number, windowMs: number): { flood: Flood; allow: boolean; started: boolean } {
  const recent = [...prune(f.recent, ts, windowMs), ts];
  // Bounded memory: only the last limit+1 attempts can matter for the count.
  const kept = recent.slice(-(limit + 1) * 4);
  if (f.active) return { flood: { ...f, recent: kept, suppressed: f.suppressed + 1 }, allow: false, started: false };
  if (recent.length > limit) return { flood: { recent: kept, active: true, suppressed: 1, since: ts }, allow: false, started: true };
  return { flood: { ...f, recent: kept }, allow: true, started: false };
}

/** Ends the flood when the window has calmed down. */
export function calm(f: Flood, now: number, limit: number, windowMs: number): { flood: Flood; ended: boolean } {
  const recent = prune(f.recent, now, windowMs);
  if (f.active && recent.length <= limit) return { flood: { recent, active: false, suppressed: 0 }, ended: true };
  return { flood: { ...f, recent }, ended: false };
}
