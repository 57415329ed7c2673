export { windowStages, alignPlant, type WindowResume } from './operators.js';
export { windowsOpenAtStop } from './resume.js';
export { StageWindower, stagesWithSignals, type WindowHooks, type WindowingConfig, type DropReason } from './windower.js';
export { signalFeatures, slopePerHour, type Sample, type GapRules, type SignalSpan, type FeatureWindow } from './features.js';
export { toWindowRow } from './rows.js';
