/**
 * The named units a plant tag may be in, and the conversion to the unit its signal is configured in.
 * Each unit is `base = value * factor + offset` in its dimension's base unit; a conversion between two
 * units of one dimension goes through the base. Units of different dimensions never convert.
 */
export interface UnitDef {
  readonly dimension: string;
  readonly factor: number;
  readonly offset: number;
}

const GALLON_M3 = 0.003785411784;
const FT3_M3 = 0.028316846592;
/** Standard cubic feet (60 degF, 14.696 psia) to normal cubic metres (0 degC, 1.01325 bar). */
const SCF_NM3 = FT3_M3 * (273.15 / 288.705555);

type Table = Record<string, readonly [dimension: string, factor: number, offset?: number]>;

/** The table (README, docs/mapping.md): name -> dimension, factor to the base, offset. */
const TABLE: Table = {
  // temperature, base degC
  degC: ['temperature', 1],
  degF: ['temperature', 5 / 9, (-32 * 5) / 9],
  K: ['temperature', 1, -273.15],
  // pressure, base kPa
  kPa: ['pressure', 1],
  Pa: ['pressure', 0.001],
  MPa: ['pressure', 1000],
  bar: ['pressure', 100],
  mbar: ['pressure', 0.1],
  psi: ['pressure', 6.894757293168],
  mH2O: ['pressure', 9.80665],
  inH2O: ['pressure', 0.24908891],
  // volumetric flow of water, base m3/d
  'm3/d': ['flow', 1],
  'm3/h': ['flow', 24],
  'm3/s': ['flow', 86_400],
  'L/s': ['flow', 86.4],
  'L/min': ['flow', 1.44],
  'L/h': ['flow', 0.024],
  'ML/d': ['flow', 1000],
  gpm: ['flow', GALLON_M3 * 1440],
  gph: ['flow', GALLON_M3 * 24],
  gpd: ['flow', GALLON_M3],
  MGD: ['flow', 3785.411784],
  cfs: ['flow', FT3_M3 * 86_400],
  // gas flow at normal or standard conditions, base Nm3/h
  'Nm3/h': ['gas_flow', 1],
  'Nm3/min': ['gas_flow', 60],
  'Nm3/d': ['gas_flow', 1 / 24],
  SCFM: ['gas_flow', SCF_NM3 * 60],
  SCFH: ['gas_flow', SCF_NM3],
  // length and level, base m
  m: ['length', 1],
  cm: ['length', 0.01],
  mm: ['length', 0.001],
  ft: ['length', 0.3048],
  in: ['length', 0.0254],
  // concentration in water, base mg/L
  'mg/L': ['concentration', 1],
  'g/m3': ['concentration', 1],
  ppm: ['concentration', 1],
  'ug/L': ['concentration', 0.001],
  ppb: ['concentration', 0.001],
  'g/L': ['concentration', 1000],
  'kg/m3': ['concentration', 1000],
  // mass load, base kg/d
  'kg/d': ['mass_flow', 1],
  'kg/h': ['mass_flow', 24],
  'lb/d': ['mass_flow', 0.45359237],
  // molar concentration, base mol/m3
  'mol/m3': ['molar', 1],
  'mmol/L': ['molar', 1],
  // conductivity, base uS/cm
  'uS/cm': ['conductivity', 1],
  'mS/cm': ['conductivity', 1000],
  'mS/m': ['conductivity', 10],
  // membrane flux, base L/m2/h
  'L/m2/h': ['flux', 1],
  LMH: ['flux', 1],
  gfd: ['flux', (GALLON_M3 * 1000) / (0.09290304 * 24)],
  // permeability, base L/m2/h/bar
  'L/m2/h/bar': ['permeability', 1],
  'gfd/psi': ['permeability', ((GALLON_M3 * 1000) / (0.09290304 * 24)) / 0.06894757293168],
  // electric potential, base mV
  mV: ['potential', 1],
  V: ['potential', 1000],
  // time, base min
  min: ['time', 1],
  s: ['time', 1 / 60],
  h: ['time', 60],
  // rates, base 1/d
  '1/d': ['rate', 1],
  '1/h': ['rate', 24],
  // power, base kW
  kW: ['power', 1],
  W: ['power', 0.001],
  hp: ['power', 0.745699872],
  // dimensionless
  pH: ['pH', 1],
  NTU: ['turbidity', 1],
  FNU: ['turbidity', 1],
  state: ['state', 1],
  '%': ['fraction', 1],
  fraction: ['fraction', 100],
};

export const UNITS: ReadonlyMap<string, UnitDef> = new Map(
  Object.entries(TABLE).map(([name, [dimension, factor, offset]]) => [name, { dimension, factor, offset: offset ?? 0 }]),
);

export type Conversion = (value: number) => number;
const IDENTITY: Conversion = (v) => v;

/**
 * The conversion from `from` to `to`, or why there is none. The same name on both sides is the
 * identity even when the table does not know it (a signal in its own unit).
 */
export function conversion(from: string, to: string): Conversion | { readonly error: string } {
  if (from === to) return IDENTITY;
  const a = UNITS.get(from);
  if (!a) return { error: `unknown unit ${from}` };
  const b = UNITS.get(to);
  if (!b) return { error: `the signal's unit ${to} is not in the unit table, so ${from} cannot be converted to it` };
  if (a.dimension !== b.dimension) return { error: `${from} is a ${a.dimension.replace('_', ' ')}, ${to} a ${b.dimension.replace('_', ' ')}` };
  if (a.factor === b.factor && a.offset === b.offset) return IDENTITY;
  const factor = a.factor / b.factor;
  const offset = (a.offset - b.offset) / b.factor;
  return (v) => v * factor + offset;
}
