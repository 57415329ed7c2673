import type { LoopId } from '../../contract/plant.js';
import { backwashIntervalPolicy } from './backwash-interval.js';
import { carbonDosePolicy } from './carbon-dose.js';
import { coagulantDosePolicy } from './coagulant-dose.js';
import { doPolicy } from './do.js';
import { internalRecyclePolicy } from './internal-recycle.js';
import type { LoopPolicy } from './types.js';
import { wasFlowPolicy } from './was-flow.js';

/** One policy per loop; the dispatch table the controller runs. */
export const POLICIES: Readonly<Record<LoopId, LoopPolicy<unknown>>> = {
  do: doPolicy as LoopPolicy<unknown>,
  internal_recycle: internalRecyclePolicy as LoopPolicy<unknown>,
  carbon_dose: carbonDosePolicy as LoopPolicy<unknown>,
  coagulant_dose: coagulantDosePolicy as LoopPolicy<unknown>,
  backwash_interval: backwashIntervalPolicy as LoopPolicy<unknown>,
  was_flow: wasFlowPolicy as LoopPolicy<unknown>,
};

export * from './types.js';
export { doPolicy, internalRecyclePolicy, carbonDosePolicy, coagulantDosePolicy, backwashIntervalPolicy, wasFlowPolicy };
