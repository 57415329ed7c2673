/**
 * Site file lines of a plant without membrane and phosphorus stages and with a fourth aeration zone:
 * the stages, their loops and their sensor check removed, the new zone's signal and volumes added.
 */
export const NO_MEMBRANE_PLANT: readonly string[] = [
  'signals:',
  '  - { stage: membrane, remove: true }',
  '  - { stage: phosphorus, remove: true }',
  '  - { stage: aerobic, id: do_zone4, unit: mg/L, min: 0, max: 12, periodSec: 60 }',
  'plant: { aerobicVolumesM3: [1000, 1000, 1000, 1000], membraneAreaM2: 0 }',
  'control:',
  '  loops:',
  '    - { id: backwash_interval, remove: true }',
  '    - { id: coagulant_dose, remove: true }',
  'models:',
  '  sensorChecks:',
  '    levelShifts:',
  '      - { id: membrane_fouling, remove: true }',
];
