import { systemClock, type Clock } from '../lib/clock.js';

export interface PlantClockOptions {
  /** Plant seconds per wall second. */
  readonly speed: number;
  /** Plant time (epoch ms) at the moment the clock is made. */
  readonly startMs: number;
  /** Never runs ahead of the wall clock: once it has caught up, it runs at 1x (`wwtp-edge sim`). */
  readonly notAheadOfWall?: boolean;
  /**
   * Plant time starts at startMs when the clock is first read, not when it is made: a twin that takes
   * seconds to settle (a loaded machine) then paces from its first minute instead of publishing the
   * minutes it missed meanwhile (at 2000x, 5 s of set-up are 3 plant hours) in one burst.
   */
  readonly startOnFirstRead?: boolean;
  /** Wall clock (epoch ms); injected by tests. */
  readonly wallNow?: () => number;
}

/**
 * The demo's and the twin's one notion of now: plant time that starts at startMs and runs at `speed`.
 * Timers keep wall durations (a status every 30 s stays every 30 s). The demo hands the same clock to the
 * daemon and to the twin, so a bare-number reading ("now"), an HMI command, a setpoint's validUntil and
 * the twin's readings agree at every speed.
 */
export function plantClock(opts: PlantClockOptions): Clock {
  const wallNow = opts.wallNow ?? ((): number => Date.now());
  let wallStart = opts.startOnFirstRead ? undefined : wallNow();
  const now = (): number => {
    const wall = wallNow();
    wallStart ??= wall;
    const plant = opts.startMs + (wall - wallStart) * opts.speed;
    return opts.notAheadOfWall ? Math.min(plant, Math.max(wall, opts.startMs)) : plant;
  };
  return { now: () => Math.floor(now()), setTimeout: systemClock.setTimeout, setInterval: systemClock.setInterval };
}
