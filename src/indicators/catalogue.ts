import type { PlantGeometry } from '../config/sections/plant-geometry.js';
import type { StageId } from '../contract/plant.js';
import { define, ratio, sum, type IndicatorDefinition, type SignalRef } from './define.js';

/** Parameters measured at both ends of the plant. */
const PARAMETERS = [
  { id: 'cod', label: 'COD' },
  { id: 'bod5', label: 'BOD5' },
  { id: 'tss', label: 'TSS' },
  { id: 'tn', label: 'TN' },
  { id: 'nh4_n', label: 'NH4-N' },
  { id: 'tp', label: 'TP' },
] as const;

/** Load, kg/d = Q [m3/d] x C [mg/L = g/m3] / 1000. */
const load = (stage: 'influent' | 'effluent', id: string, label: string): IndicatorDefinition =>
  define({
    name: `load_${id}`,
    stage,
    unit: 'kg/d',
    description: `${label} load at the ${stage}`,
    inputs: { q: `${stage}.flow`, c: `${stage}.${id}` as SignalRef },
    compute: ({ q, c }) => (q * c) / 1000,
  });

/** Concentration removal, % = (Cin - Cout) / Cin x 100. */
const removal = (name: string, stage: StageId, label: string, inlet: SignalRef, outlet: SignalRef): IndicatorDefinition =>
  define({
    name,
    stage,
    unit: '%',
    description: label,
    inputs: { cin: inlet, cout: outlet },
    compute: ({ cin, cout }) => {
      const share = ratio(cin - cout, cin);
      return share === undefined ? undefined : 100 * share;
    },
  });

/** Volume of the biological reactor holding mixed liquor, m3. */
const reactorVolume = (g: PlantGeometry): number =>
  g.anaerobicVolumeM3 + sum(g.anoxicVolumesM3) + sum(g.aerobicVolumesM3) + g.membraneTankVolumeM3;

const STAGE_VOLUMES: readonly { stage: StageId; volume: (g: PlantGeometry) => number }[] = [
  { stage: 'primary', volume: (g) => g.primaryVolumeM3 },
  { stage: 'anaerobic', volume: (g) => g.anaerobicVolumeM3 },
  { stage: 'anoxic', volume: (g) => sum(g.anoxicVolumesM3) },
  { stage: 'aerobic', volume: (g) => sum(g.aerobicVolumesM3) },
  { stage: 'secondary', volume: (g) => g.settlerAreaM2 * g.settlerDepthM },
  { stage: 'membrane', volume: (g) => g.membraneTankVolumeM3 },
];

/**
 * Every indicator the daemon computes per plant window. Concentrations and flows are window means;
 * MLSS is taken as uniform over the reactor (well mixed, high recycle).
 */
export const INDICATORS: readonly IndicatorDefinition[] = [
  ...PARAMETERS.map((p) => load('influent', p.id, p.label)),
  ...PARAMETERS.map((p) => load('effluent', p.id, p.label)),
  ...PARAMETERS.map((p) =>
    removal(`removal_${p.id}`, 'effluent', `overall ${p.label} removal, influent to effluent`, `influent.${p.id}` as SignalRef, `effluent.${p.id}` as SignalRef),
  ),
  removal('removal_tss', 'primary', 'primary clarifier TSS removal', 'influent.tss', 'primary.tss_out'),
  removal('removal_cod', 'primary', 'primary clarifier COD removal', 'influent.cod', 'primary.cod_out'),
  removal('removal_nh4_n', 'aerobic', 'nitrification: NH4-N from the last anoxic to the last aerated zone', 'anoxic.nh4_n', 'aerobic.nh4_n'),
  removal('solids_capture', 'secondary', 'secondary clarifier solids capture, MLSS to clarified TSS', 'aerobic.mlss', 'secondary.tss_out'),
  removal('removal_po4_p', 'phosphorus', 'chemical P removal, PO4-P before dosing to effluent', 'phosphorus.po4_p', 'effluent.po4_p'),
  define({
    name: 'fm_ratio',
    stage: 'aerobic',
    unit: 'kg/(kg d)',
    description: 'food to microorganisms: influent BOD5 load / (MLSS x aerated volume)',
    inputs: { q: 'influent.flow', bod: 'influent.bod5', mlss: 'aerobic.mlss' },
    compute: ({ q, bod, mlss }, g) => ratio((q * bod) / 1000, (mlss / 1000) * sum(g.aerobicVolumesM3)),
  }),
  define({
    name: 'cn_ratio',
    stage: 'influent',
    unit: 'g/g',
    description: 'influent COD / TN',
    inputs: { cod: 'influent.cod', tn: 'influent.tn' },
    compute: ({ cod, tn }) => ratio(cod, tn),
  }),
  define({
    name: 'bod_tn_ratio',
    stage: 'influent',
    unit: 'g/g',
    description: 'influent BOD5 / TN',
    inputs: { bod: 'influent.bod5', tn: 'influent.tn' },
    compute: ({ bod, tn }) => ratio(bod, tn),
  }),
  ...STAGE_VOLUMES.map(({ stage, volume }) =>
    define({
      name: 'hrt',
      stage,
      unit: 'h',
      description: `nominal hydraulic retention time of the ${stage} stage (volume / influent flow)`,
      inputs: { q: 'influent.flow' },
      compute: ({ q }, g) => {
        const v = volume(g);
        return v > 0 ? ratio(24 * v, q) : undefined;
      },
    }),
  ),
  define({
    name: 'srt',
    stage: 'secondary',
    unit: 'd',
    description: 'sludge retention time: sludge in the reactor / (sludge wasted + sludge lost with the effluent)',
    inputs: { mlss: 'aerobic.mlss', qw: 'secondary.was_flow', xw: 'secondary.ras_tss', qe: 'effluent.flow', xe: ['effluent.tss', 'secondary.tss_out'] },
    compute: ({ mlss, qw, xw, qe, xe }, g) => ratio(mlss * reactorVolume(g), qw * xw + qe * xe),
  }),
  define({
    name: 'svi',
    stage: 'secondary',
    unit: 'mL/g',
    description: 'sludge volume index: settled volume after 30 min / MLSS (needs an ssv30 signal, mL/L)',
    inputs: { ssv: ['secondary.ssv30', 'aerobic.ssv30'], mlss: 'aerobic.mlss' },
    compute: ({ ssv, mlss }) => ratio(ssv * 1000, mlss),
  }),
  define({
    name: 'surface_overflow_rate',
    stage: 'secondary',
    unit: 'm/h',
    description: 'clarified flow / settler area',
    inputs: { q: ['effluent.flow', 'influent.flow'] },
    compute: ({ q }, g) => ratio(q / 24, g.settlerAreaM2),
  }),
  define({
    name: 'solids_loading_rate',
    stage: 'secondary',
    unit: 'kg/(m2 h)',
    description: 'solids to the settler: (influent + return flow) x MLSS / settler area',
    inputs: { q: 'influent.flow', qr: 'secondary.ras_flow', mlss: 'aerobic.mlss' },
    compute: ({ q, qr, mlss }, g) => ratio(((q + qr) * mlss) / 1000 / 24, g.settlerAreaM2),
  }),
  define({
    name: 'net_flux',
    stage: 'membrane',
    unit: 'L/(m2 h)',
    description: 'permeate flow / installed membrane area',
    inputs: { qp: 'membrane.permeate_flow' },
    compute: ({ qp }, g) => ratio((qp * 1000) / 24, g.membraneAreaM2),
  }),
];
