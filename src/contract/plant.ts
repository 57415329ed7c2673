/** The nine stages of the plant, in flow order (PRODUCT section 2). */
export const STAGES = [
  'influent',
  'primary',
  'anaerobic',
  'anoxic',
  'aerobic',
  'secondary',
  'membrane',
  'phosphorus',
  'effluent',
] as const;
export type StageId = (typeof STAGES)[number];

/** The six supervisory loops and the stage each belongs to. */
export const LOOPS = {
  do: 'aerobic',
  internal_recycle: 'anoxic',
  carbon_dose: 'anoxic',
  coagulant_dose: 'phosphorus',
  backwash_interval: 'membrane',
  was_flow: 'secondary',
} as const satisfies Record<string, StageId>;
export type LoopId = keyof typeof LOOPS;
export const LOOP_IDS = Object.keys(LOOPS) as LoopId[];

export function isStage(value: string): value is StageId {
  return (STAGES as readonly string[]).includes(value);
}

export function isLoop(value: string): value is LoopId {
  return Object.prototype.hasOwnProperty.call(LOOPS, value);
}
