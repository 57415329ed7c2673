import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig, checkLayers, defaultConfigPath, loadConfig, repoRoot } from '../../src/config/load.js';
import { mergeLayers } from '../../src/config/merge.js';
import { NO_MEMBRANE_PLANT } from './no-membrane.js';

const tmp = mkdtempSync(join(tmpdir(), 'wwtp-merge-'));
const file = (name: string, text: string): string => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};
const defaults = loadConfig();
const open = { broker: { embedded: { allowAnonymous: true } } };

describe('list merge by id', () => {
  it('a few lines add a signal, change one loop and remove a stage; the rest of the default stays', () => {
    const site = file(
      'few-lines.yaml',
      [
        'signals:',
        '  - { stage: aerobic, id: do_zone4, unit: mg/L, min: 0, max: 12, periodSec: 60 }',
        '  - { stage: phosphorus, remove: true }',
        'control:',
        '  loops:',
        '    - { id: do, max: 2.5 }',
        '    - { id: coagulant_dose, remove: true }',
      ].join('\n'),
    );
    const config = loadConfig({ file: site });
    const phosphorus = defaults.signals.filter((s) => s.stage === 'phosphorus');
    expect(phosphorus.length).toBeGreaterThan(0);
    expect(config.signals).toHaveLength(defaults.signals.length + 1 - phosphorus.length);
    expect(config.signals.some((s) => s.stage === 'phosphorus')).toBe(false);
    expect(config.signals.at(-1)).toMatchObject({ stage: 'aerobic', id: 'do_zone4', unit: 'mg/L' });
    // the untouched signals keep their order and values
    expect(config.signals.slice(0, 10)).toEqual(defaults.signals.slice(0, 10));
    const doLoop = config.control.loops.find((l) => l.id === 'do');
    const defaultDo = defaults.control.loops.find((l) => l.id === 'do');
    expect(doLoop).toEqual({ ...defaultDo, max: 2.5 });
    expect(config.control.loops.map((l) => l.id)).toEqual(defaults.control.loops.map((l) => l.id).filter((id) => id !== 'coagulant_dose'));
    expect(config.alarms).toEqual(defaults.alarms);
    expect(config.models.sensorChecks.flowBalances).toEqual(defaults.models.sensorChecks.flowBalances);
  });

  it('changes a field of one signal in place', () => {
    const config = loadConfig({ file: file('one-field.yaml', 'signals:\n  - { stage: membrane, id: tmp, max: 150 }\n') });
    const index = defaults.signals.findIndex((s) => s.stage === 'membrane' && s.id === 'tmp');
    expect(config.signals[index]).toEqual({ ...defaults.signals[index], max: 150 });
    expect(config.signals).toHaveLength(defaults.signals.length);
  });

  it('merges alarm limits by stage and signal across layers, and removes one', () => {
    const site = file('limits.yaml', 'alarms:\n  limits:\n    - { stage: membrane, signal: tmp, high: 60, severity: high }\n    - { stage: aerobic, signal: do, low: 0.3 }\n');
    const config = loadConfig({
      file: site,
      override: { alarms: { limits: [{ stage: 'membrane', signal: 'tmp', high: 55 }, { stage: 'aerobic', signal: 'do', remove: true }] } },
    });
    expect(config.alarms.limits).toEqual([{ stage: 'membrane', signal: 'tmp', high: 55, severity: 'high' }]);
  });

  it('merges sensor-check lists by id and the actuated list as a set', () => {
    const site = file(
      'checks.yaml',
      [
        'models:',
        '  sensorChecks:',
        '    flowBalances:',
        '      - { id: plant, tolerance: 0.2 }',
        '      - { id: membrane, inflow: [membrane.permeate_flow], outflow: [effluent.flow], tolerance: 0.1 }',
        '    levelShifts:',
        '      - { id: membrane_fouling, remove: true }',
        '    actuated:',
        '      - influent.flow',
        '      - { signal: aerobic.do, remove: true }',
      ].join('\n'),
    );
    const checks = loadConfig({ file: site }).models.sensorChecks;
    expect(checks.flowBalances.map((b) => [b.id, b.tolerance])).toEqual([['plant', 0.2], ['membrane', 0.1]]);
    expect(checks.flowBalances[0]?.outflow).toEqual(defaults.models.sensorChecks.flowBalances[0]?.outflow);
    expect(checks.levelShifts).toEqual([]);
    expect(checks.actuated).toContain('influent.flow');
    expect(checks.actuated).not.toContain('aerobic.do');
    expect(checks.actuated).toContain('aerobic.airflow');
  });

  it('replaces plain lists (not entries with ids) whole', () => {
    const config = loadConfig({ file: file('volumes.yaml', 'plant:\n  aerobicVolumesM3: [1000, 1000, 1000, 1000]\n') });
    expect(config.plant.aerobicVolumesM3).toEqual([1000, 1000, 1000, 1000]);
  });

  it('a plant without membrane and phosphorus stages and with a fourth aeration zone is valid with its removals', () => {
    const site = file('no-membrane.yaml', NO_MEMBRANE_PLANT.join('\n'));
    const result = checkConfig({ file: site, override: open });
    expect(result.errors).toEqual([]);
    // exemptions on the stages the plant does not have are moot, not warnings
    expect(result.warnings).toEqual([]);
    expect(result.config?.signals.some((s) => s.stage === 'membrane')).toBe(false);
  });

  it('without the removals, each dangling reference is an error that says how to remove it', () => {
    const site = file('no-membrane-bare.yaml', 'signals:\n  - { stage: membrane, remove: true }\n');
    const errors = checkConfig({ file: site, override: open }).errors;
    expect(errors.map((e) => [e.source, e.path])).toEqual([
      [defaultConfigPath, 'control.loops[backwash_interval].stage'],
      [defaultConfigPath, 'models.sensorChecks.levelShifts[membrane_fouling].signal'],
      [defaultConfigPath, 'models.sensorChecks.levelShifts[membrane_fouling].per'],
      [defaultConfigPath, 'models.sensorChecks.levelShifts[membrane_fouling].load'],
    ]);
    expect(errors[0]?.message).toContain('(remove the loop with - { id: backwash_interval, remove: true })');
  });
});

describe('loops and the signals their policies need', () => {
  it('a loop whose policy needs a removed signal is an error; a disabled loop is not', () => {
    const site = file('no-mlss.yaml', 'signals:\n  - { stage: aerobic, id: mlss, remove: true }\n');
    const errors = checkConfig({ file: site, override: open }).errors;
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ['control.loops[was_flow]', 'loop was_flow needs aerobic.mlss, which is not configured (configure it, set enabled: false, or remove the loop with - { id: was_flow, remove: true })'],
    ]);
    const disabled = file('no-mlss-disabled.yaml', 'signals:\n  - { stage: aerobic, id: mlss, remove: true }\ncontrol:\n  loops:\n    - { id: was_flow, enabled: false }\n');
    expect(checkConfig({ file: disabled, override: open }).errors).toEqual([]);
  });
});

describe('tag map', () => {
  it('merges points by tag and reports a bad point beside an unrelated schema error', () => {
    const site = file('tags.yaml', 'tags:\n  points:\n    - { tag: TI_101, stage: aerobic, signal: temperature, unit: degF }\n    - { tag: FT_1, stage: influent, signal: flow, unit: gpm }\n');
    const config = loadConfig({ file: site, override: { tags: { points: [{ tag: 'FT_1', unit: 'MGD' }] } } });
    expect(config.tags.points.map((p) => [p.tag, p.unit])).toEqual([['TI_101', 'degF'], ['FT_1', 'MGD']]);
    const errors = checkConfig({ file: site, env: { WWTP_EDGE_HTTP__PORT: 'x' }, override: { ...open, tags: { points: [{ tag: 'X', stage: 'aerobic', signal: 'nope' }] } } }).errors;
    expect(errors.map((e) => [e.source, e.path])).toEqual([
      ['WWTP_EDGE_HTTP__PORT', 'http.port'],
      ['(override)', 'tags.points[X].signal'],
    ]);
  });
});

describe('README', () => {
  it("the Config reference's site file example is valid and does what it says", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const start = readme.indexOf('# a plant without membranes');
    expect(start).toBeGreaterThan(0);
    const example = file('readme-example.yaml', readme.slice(start, readme.indexOf('```', start)));
    const result = checkConfig({ file: example, override: open });
    expect(result.errors).toEqual([]);
    expect(result.config?.signals.some((s) => s.stage === 'membrane')).toBe(false);
    expect(result.config?.control.loops.find((l) => l.id === 'do')?.max).toBe(2.5);
  });
});

describe('merge errors name the layer', () => {
  it('a removal that matches nothing, a removal with other fields, a twice-listed id, an entry without its id', () => {
    const site = file(
      'bad-merge.yaml',
      [
        'signals:',
        '  - { stage: aerobic, id: nope, remove: true }',
        '  - { stage: aerobic, id: do, max: 9, remove: true }',
        '  - { stage: aerobic, id: mlss, max: 9000 }',
        '  - { stage: aerobic, id: mlss, max: 9500 }',
        '  - { id: orphan, unit: x, min: 0, max: 1, periodSec: 60 }',
        'control:',
        '  loops:',
        '    - { id: do, remove: yes please }',
      ].join('\n'),
    );
    const errors = checkConfig({ file: site, override: open }).errors;
    expect(errors.map((e) => [e.source, e.path, e.message])).toEqual([
      [site, 'signals', 'removes aerobic/nope, which is not configured'],
      [site, 'signals', 'entry 2: a removal names only stage/id and remove: true, not max'],
      [site, 'signals', 'entry 4: aerobic/mlss appears twice in this list'],
      [site, 'signals', 'entry 5: stage must be given (entries are matched by stage and id)'],
      [site, 'control.loops.remove', 'entry 1: remove must be true (or left out)'],
    ]);
  });

  it('keeps per-value sources through layers: default, file, variable, override', () => {
    const layers = [
      { source: 'default', tree: { http: { port: 1, host: 'a' }, signals: [{ stage: 'aerobic', id: 'do', unit: 'mg/L' }] } },
      { source: 'site.yaml', tree: { http: { port: 2 }, signals: [{ stage: 'aerobic', id: 'do', max: 'three' }] } },
      { source: 'WWTP_EDGE_HTTP__PORT', tree: { http: { port: 3 } } },
    ];
    const merged = mergeLayers(layers);
    expect(merged.tree).toEqual({ http: { port: 3, host: 'a' }, signals: [{ stage: 'aerobic', id: 'do', unit: 'mg/L', max: 'three' }] });
    const result = checkLayers(layers);
    const sourceOf = (path: string): string | undefined => result.errors.find((e) => e.path === path)?.source;
    // a missing key is the omission of the layer that made the mapping; a bad value, of the layer that set it
    expect(sourceOf('site')).toBe('default');
    expect(sourceOf('signals[aerobic/do].min')).toBe('default');
    expect(sourceOf('signals[aerobic/do].max')).toBe('site.yaml');
    expect(sourceOf('http.port')).toBeUndefined();
  });

  it('leaves the data folder and the test knobs out of the config', () => {
    const env = { WWTP_EDGE_DATA: '/x', WWTP_EDGE_TEST_MARIADB: 'mariadb://h/t', WWTP_EDGE_BLACKBOX_SCALE: '3', WWTP_EDGE_RELIABILITY_OUT: '/tmp/r.json' };
    expect(checkConfig({ env, override: open }).errors).toEqual([]);
  });

  it('blames a variable, not the file, for the value it set', () => {
    const site = file('port.yaml', 'http:\n  port: 9000\n');
    const errors = checkConfig({ file: site, env: { WWTP_EDGE_HTTP__PORT: 'notaport', WWTP_EDGE_STORAGE__MAX_BYTE: '5' }, override: open }).errors;
    expect(errors.map((e) => [e.source, e.path]).sort()).toEqual([
      ['WWTP_EDGE_HTTP__PORT', 'http.port'],
      ['WWTP_EDGE_STORAGE__MAX_BYTE', 'storage.maxByte'],
    ]);
  });
});
