export { SkillRing, figuresOf, HOUR_MS, RING_HOURS, type SkillBucket, type SkillFigures } from './skill.js';
export { DriftRing, psi, binOf, BINS, DAY_MS, RING_DAYS, type DriftFigures } from './drift.js';
export { LiveTracker, type TrackedModel, type TrackerState, type ModelLiveFigures } from './tracker.js';
export { evaluateTriggers, type TriggerInput, type TriggerOutcome } from './triggers.js';
