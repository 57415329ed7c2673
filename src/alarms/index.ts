export { createAlarms, toMessage, ALARMS_STATE_KEY, FLOOD_ALARM_ID, type Alarms, type AlarmsContext, type AlarmList, type AlarmVerdict } from './alarms.js';
export { reduceAlarm, isStanding } from './reducer.js';
export { report, settle, type Debounce } from './debounce.js';
export { admit, calm, emptyFlood, type Flood } from './flood.js';
export { sensorReport, predictionReport, staleId, limitId, predictedId } from './sources.js';
export { isSystemAlarm, SYSTEM_ALARM_PREFIXES, type AlarmRecord, type AlarmEvent, type AlarmState } from './types.js';
export { sheddingClearedMessage, sheddingCondition, SHEDDING_ALARM_ID, type ShedReport, type ShedTotals, type UnderBudgetReport } from './system.js';
