import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { conversion, UNITS } from '../../src/mapping/units.js';

const convert = (from: string, to: string, value: number): number => {
  const c = conversion(from, to);
  if ('error' in c) throw new Error(c.error);
  return c(value);
};

describe('unit table', () => {
  it.each([
    ['degF', 'degC', 212, 100],
    ['degF', 'degC', 32, 0],
    ['degF', 'degC', -40, -40],
    ['K', 'degC', 273.15, 0],
    ['degC', 'degF', 100, 212],
    ['psi', 'kPa', 1, 6.894757],
    ['bar', 'kPa', 1, 100],
    ['psi', 'bar', 14.5038, 1],
    ['gpm', 'm3/d', 1, 5.450997],
    ['MGD', 'm3/d', 1, 3785.411784],
    ['m3/h', 'm3/d', 1, 24],
    ['L/s', 'm3/d', 1, 86.4],
    ['gpm', 'L/h', 1, 227.1247],
    ['SCFM', 'Nm3/h', 1, 1.6077],
    ['ft', 'm', 10, 3.048],
    ['in', 'mm', 1, 25.4],
    ['g/L', 'mg/L', 1.5, 1500],
    ['ppm', 'mg/L', 7, 7],
    ['mS/cm', 'uS/cm', 1.2, 1200],
    ['gfd', 'L/m2/h', 1, 1.6979],
    ['hp', 'kW', 1, 0.7457],
    ['h', 'min', 2, 120],
  ])('%s -> %s: %d is %d', (from, to, value, expected) => {
    expect(convert(from, to, value)).toBeCloseTo(expected, 3);
  });

  it('converts back and forth within a dimension', () => {
    const byDimension = new Map<string, string[]>();
    for (const [name, def] of UNITS) byDimension.set(def.dimension, [...(byDimension.get(def.dimension) ?? []), name]);
    for (const names of byDimension.values()) {
      for (const a of names) for (const b of names) expect(convert(b, a, convert(a, b, 12.5))).toBeCloseTo(12.5, 9);
    }
  });

  it('refuses an unknown unit and a dimension mismatch, and keeps a unit the table does not know when both sides name it', () => {
    expect(conversion('furlong/fortnight', 'm3/d')).toEqual({ error: 'unknown unit furlong/fortnight' });
    expect(conversion('psi', 'degC')).toEqual({ error: 'psi is a pressure, degC a temperature' });
    expect(conversion('m3/h', 'Nm3/h')).toEqual({ error: 'm3/h is a flow, Nm3/h a gas flow' });
    expect(convert('widgets', 'widgets', 3)).toBe(3);
  });

  it('is a config error at load, with the path of the point', () => {
    const points = [
      { tag: 'TI_101', stage: 'aerobic', signal: 'temperature', unit: 'degF' },
      { tag: 'PT_7', stage: 'membrane', signal: 'tmp', unit: 'degF' },
      { tag: 'FT_1', stage: 'influent', signal: 'flow', unit: 'gallons' },
      { tag: 'X', stage: 'aerobic', signal: 'nope' },
    ];
    expect(() => loadConfig({ override: { tags: { points } } })).toThrow(
      /tags\.points\[PT_7\]\.unit: tag PT_7: degF is a temperature, kPa a pressure.*tags\.points\[FT_1\]\.unit: tag FT_1: unknown unit gallons.*tags\.points\[X\]\.signal: tag X maps to aerobic\/nope, which is not a configured signal/,
    );
    expect(loadConfig({ override: { tags: { points: points.slice(0, 1) } } }).tags.points[0]).toMatchObject({ tag: 'TI_101', unit: 'degF', scale: 1, offset: 0 });
  });
});
