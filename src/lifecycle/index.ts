export { SkillRing, figuresOf, HOUR_MS, RING_HOURS, type SkillBucket, type SkillFigures } from './skill.js';
export { DriftRing, psi, binOf, BINS, DAY_MS, RING_DAYS, type DriftFigures } from './drift.js';
export { LiveTracker, type TrackedModel, type TrackerState, type ModelLiveFigures } from './tracker.js';
export { evaluateTriggers, heldOutFor, type TriggerInput, type TriggerOutcome } from './triggers.js';
export { DetectorRing, type DetectorFigures, type DetectorState } from './detector.js';
export { createModelLifecycle, LIFECYCLE_STATE_KEY, type ModelLifecycle, type ModelLifecycleContext, type ActivationNotice, type RefusalNotice } from './monitor.js';
export { registerLifecycleGauges } from './metrics.js';
export { createRetrainer, type Retrainer, type RetrainRequest, type CandidateNotice, type GateNotice } from './retrain.js';
