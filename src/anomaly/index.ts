export { fitCsv, defaultDetectorSettings, type FitCsvOptions, type FitCsvResult, type DetectorSettings } from './fit.js';
export { scoreCsv, type ScoreCsvOptions, type ScoreCsvResult } from './score.js';
export { AnomalyError } from './errors.js';
