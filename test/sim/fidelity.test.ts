import { describe, expect, it } from 'vitest';
import { needData } from '../helpers/data.js';
import { loadConfig } from '../../src/config/load.js';
import { COMPONENTS, N_COMP } from '../../src/sim/asm1.js';
import { createEngine } from '../../src/sim/engine.js';
import { constantInfluent } from '../../src/sim/influent.js';
import { unmappedSignals } from '../../src/sim/sensors.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultDataDir } from '../../src/sim/simulate.js';

type Table = Record<string, Record<string, number>>;
const reference = needData('BSM1 reference results', 'bsm1/reference_values.json');
const ref = (reference.present ? JSON.parse(readFileSync(reference.path('bsm1/reference_values.json'), 'utf8')) : { steady_state_report2008: { openloop: {}, closedloop: {} } }) as {
  steady_state_report2008: { openloop: Table; closedloop: Table };
};

describe.skipIf(!reference.present)(`BSM1 steady state${reference.note}`, () => {
  for (const control of ['open', 'closed'] as const) {
    it(`${control} loop: every tank state within 1 % (abs 0.01 below 1) after 60 d`, () => {
      const engine = createEngine({ influent: constantInfluent(), seed: 0, noise: false, ideal: true, control, faults: [] });
      for (let i = 0; i < 60 * 1440; i++) engine.tick();
      const table = control === 'open' ? ref.steady_state_report2008.openloop : ref.steady_state_report2008.closedloop;
      let checked = 0;
      for (let k = 0; k < 5; k++) {
        COMPONENTS.forEach((c, i) => {
          const target = table[`Reactor ${k + 1}`]![c]!;
          const value = engine.x[k * N_COMP + i]!;
          const tol = Math.abs(target) < 1 ? 0.01 : 0.01 * Math.abs(target);
          expect(Math.abs(value - target), `tank ${k + 1} ${c}`).toBeLessThanOrEqual(tol);
          checked++;
        });
      }
      expect(checked).toBe(65);
    });
  }
});

describe('sensor mapping', () => {
  it('gives every configured signal a twin counterpart', () => {
    const signals = loadConfig().signals;
    expect(signals.length).toBeGreaterThanOrEqual(50);
    expect(unmappedSignals(signals)).toEqual([]);
  });
  it('reports a configured signal the twin lacks', () => {
    expect(unmappedSignals([{ stage: 'aerobic', id: 'no_such_probe' }])).toEqual(['aerobic/no_such_probe']);
  });
});
