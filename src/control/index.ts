export { createControl, type Control, type ControlContext, type ControlExtras } from './control.js';
export { applyEnvelope, safeFallback, type Envelope, type Proposal, type Enveloped } from './envelope.js';
export { checkInputs } from './inputs.js';
export { loadLoopMemory, loopStateKey, type LoopMemory } from './memory.js';
export { POLICIES, type LoopPolicy, type PolicyInput, type PolicyResult, type SignalRef } from './policies/index.js';
export { SetpointHistory } from './setpoint-history.js';
export { whatIf, OUTLET_MODELS, WHATIF_HORIZONS_MIN } from './whatif.js';
export type { LoopSnapshot } from './control.js';
export type { Recommendation, LoopModeName } from './memory.js';
