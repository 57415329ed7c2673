import { describe, expect, it } from 'vitest';
import { simStartMs } from '../../src/cli/sim.js';
import { plantClock } from '../../src/sim/clock.js';

const NOW = Date.UTC(2026, 10, 23, 10, 0);

describe('plant clock', () => {
  it('runs at its speed from its start; the demo shares it between daemon and twin', () => {
    let wall = NOW;
    const clock = plantClock({ speed: 60, startMs: NOW, wallNow: () => wall });
    wall += 10_000;
    expect(clock.now()).toBe(NOW + 600_000);
  });

  it('for `wwtp-edge sim`: starts in the past so that a run at any speed ends at the wall clock, never ahead of it', () => {
    for (const speed of [1, 2, 60, 600, 200_000]) {
      let wall = NOW;
      const days = 1;
      const startMs = simStartMs(NOW, days, speed);
      const clock = plantClock({ speed, startMs, notAheadOfWall: true, wallNow: () => wall });
      const runMs = (days * 86_400_000) / speed;
      for (let f = 0; f <= 1.2; f += 0.05) {
        wall = NOW + f * runMs;
        expect(clock.now(), `speed ${speed} at ${f}`).toBeLessThanOrEqual(wall);
      }
      // The last plant minute of the run is reached within a minute of the run's wall time.
      wall = NOW + runMs;
      expect(startMs + days * 86_400_000 - clock.now()).toBeLessThanOrEqual(60_000 * Math.max(1, speed / 60));
    }
  });

  it('for `wwtp-edge sim`: paces from its first read, so seconds of set-up are not published as one burst', () => {
    let wall = NOW;
    const clock = plantClock({ speed: 2000, startMs: NOW - 21_600_000, notAheadOfWall: true, startOnFirstRead: true, wallNow: () => wall });
    wall += 5_000;
    expect(clock.now()).toBe(NOW - 21_600_000);
    wall += 1_000;
    expect(clock.now()).toBe(NOW - 21_600_000 + 2_000_000);
  });
});
