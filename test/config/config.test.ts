import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, checkConfig, envOverlay, loadConfig, parseConfig } from '../../src/config/load.js';
import { LOOP_IDS, STAGES } from '../../src/contract/plant.js';

const tmp = mkdtempSync(join(tmpdir(), 'wwtp-config-'));
const file = (name: string, text: string): string => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};
const checkConfigFile = (path: string) => checkConfig({ file: path, override: { broker: { embedded: { allowAnonymous: true } } } }).errors;

describe('default config', () => {
  const config = loadConfig();

  it('declares at least 50 signals over all nine stages', () => {
    expect(config.signals.length).toBeGreaterThanOrEqual(50);
    expect(new Set(config.signals.map((s) => s.stage))).toEqual(new Set(STAGES));
  });

  it('declares the six loops with envelopes that hold their fallback', () => {
    expect(config.control.loops.map((l) => l.id).sort()).toEqual([...LOOP_IDS].sort());
    for (const loop of config.control.loops) {
      expect(loop.min).toBeLessThan(loop.max);
      expect(loop.fallback).toBeGreaterThanOrEqual(loop.min);
      expect(loop.fallback).toBeLessThanOrEqual(loop.max);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.signals[0])).toBe(true);
  });
});

describe('overlays', () => {
  it('applies --config over the defaults and WWTP_EDGE_* over both', () => {
    const overlay = file('site.yaml', 'site: plant_a\nhttp:\n  port: 9000\n');
    const config = loadConfig({ file: overlay, env: { WWTP_EDGE_HTTP__PORT: '9100', WWTP_EDGE_STORAGE__MAX_BYTES: '1000000' } });
    expect(config.site).toBe('plant_a');
    expect(config.http.port).toBe(9100);
    expect(config.storage.maxBytes).toBe(1_000_000);
    expect(config.signals.length).toBeGreaterThanOrEqual(50);
  });

  it('maps snake case variable names to camel case paths', () => {
    expect(envOverlay({ WWTP_EDGE_BROKER__EMBEDDED__ALLOW_ANONYMOUS: 'true', OTHER: 'x' })).toEqual({
      broker: { embedded: { allowAnonymous: true } },
    });
  });
});

describe('errors', () => {
  it('lists every error with its path', () => {
    const bad = file(
      'bad.yaml',
      ['site: "two words"', 'http:', '  port: 99999', 'control:', '  loops:', '    - { id: do, stage: aerobic, unit: x, min: 3, max: 1, maxStep: 1, fallback: 2 }'].join('\n'),
    );
    const issues = checkConfigFile(bad);
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('site');
    expect(paths).toContain('http.port');
    expect(paths).toContain('control.loops[do].max');
  });

  it('checks that a loop\'s feedback is a configured signal in the loop\'s unit', () => {
    const bad = file(
      'feedback.yaml',
      [
        'control:',
        '  loops:',
        '    - { id: do, stage: aerobic, unit: mg/L, min: 0.5, max: 3, maxStep: 0.5, fallback: 2, feedback: aerobic.airflow }',
        '    - { id: was_flow, stage: secondary, unit: m3/d, min: 100, max: 1000, maxStep: 50, fallback: 385, feedback: secondary.nope }',
        '    - { id: internal_recycle, stage: anoxic, unit: m3/d, min: 5000, max: 92230, maxStep: 15000, fallback: 55338, feedback: anoxic.internal_recycle_flow }',
      ].join('\n'),
    );
    const issues = checkConfigFile(bad);
    expect(issues.map((i) => [i.source, i.path, i.message])).toEqual([
      [bad, 'control.loops[do].feedback', expect.stringMatching(/feedback aerobic\.airflow is in .+, the loop in mg\/L/)],
      [bad, 'control.loops[was_flow].feedback', 'loop was_flow: feedback secondary.nope is not a configured signal'],
    ]);
  });

  it('reports unknown keys instead of ignoring them', () => {
    const bad = file('typo.yaml', 'storage:\n  maxByte: 10\n');
    expect(checkConfigFile(bad).map((i) => [i.path, i.message])).toContainEqual(['storage.maxByte', 'unknown key']);
  });

  it('throws a ConfigError with exit code 2', () => {
    expect(() => parseConfig({ site: 'x', signals: [] })).toThrow(ConfigError);
    try {
      parseConfig({ site: 'x', signals: [] });
    } catch (error) {
      expect((error as ConfigError).exitCode).toBe(2);
    }
  });

  it('says which line of YAML is broken', () => {
    const bad = file('broken.yaml', 'site: [unclosed\n');
    expect(() => loadConfig({ file: bad })).toThrow(/broken\.yaml/);
  });
});
