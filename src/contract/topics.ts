import { z } from 'zod';
import { LOOP_IDS, STAGES, type LoopId, type StageId } from './plant.js';

/**
 * The one typed map from MQTT topic to payload (PRODUCT 4.2), shared by publisher, subscriber,
 * the plant twin and tests.
 */

const stage = z.enum(STAGES);
const loop = z.enum(LOOP_IDS as [LoopId, ...LoopId[]]);
const alarmState = z.enum(['active_unack', 'active_ack', 'cleared_unack', 'cleared', 'shelved']);
const severity = z.enum(['low', 'medium', 'high', 'critical']);

export const readingJson = z
  .object({
    value: z.number(),
    ts: z.union([z.number(), z.string()]).optional(),
    quality: z.enum(['good', 'uncertain', 'bad']).optional(),
  })
  .strict();

export const alarmVerdict = z.enum(['false_alarm', 'confirmed']);
export const alarmAck = z
  .object({ by: z.string().min(1).max(128), comment: z.string().max(1024).optional(), verdict: alarmVerdict.optional() })
  .strict();
export const alarmShelve = z
  .object({ by: z.string().min(1).max(128), minutes: z.number().positive().max(7 * 24 * 60), comment: z.string().max(1024).optional() })
  .strict();
export const loopMode = z
  .object({ mode: z.enum(['auto', 'manual', 'advisory']), value: z.number().optional(), by: z.string().min(1).max(128) })
  .strict();
export const loopDecision = z.object({ accept: z.boolean(), by: z.string().min(1).max(128), comment: z.string().max(1024).optional() }).strict();

export const setpointMessage = z.object({
  value: z.number(),
  unit: z.string(),
  ts: z.number(),
  mode: z.enum(['auto', 'manual', 'fallback']),
  reason: z.string(),
  model: z.string().optional(),
  validUntil: z.number(),
});
export const predictionMessage = z.object({
  value: z.number(),
  unit: z.string(),
  ts: z.number(),
  horizonMin: z.number(),
  model: z.string(),
});
export const indicatorMessage = z.object({ value: z.number(), unit: z.string(), ts: z.number() });
export const anomalyMessage = z.object({
  ts: z.number(),
  /** Null when the window gave no verdict. */
  score: z.number().nullable(),
  threshold: z.number(),
  isAnomaly: z.boolean(),
  contributors: z.array(z.object({ signal: z.string(), share: z.number() })),
  model: z.string(),
  /** Stage detectors: scored in full, from the inputs there (partial), or not at all (none). */
  verdict: z.enum(['scored', 'partial', 'none']).optional(),
  /** The inputs the window lacked and why (absent, stale, not_finite). */
  missing: z.array(z.object({ input: z.string(), reason: z.enum(['absent', 'stale', 'not_finite']) })).optional(),
});
export const alarmMessage = z.object({
  id: z.string(),
  state: alarmState,
  severity,
  stage,
  signal: z.string().optional(),
  message: z.string(),
  raisedAt: z.number(),
  clearedAt: z.number().optional(),
  ackedBy: z.string().optional(),
});
/** What-if of one candidate setpoint: the loop's outlet over the next hours. */
export const whatIfMessage = z.object({
  loop: loop,
  value: z.number(),
  unit: z.string(),
  outlet: z.object({ stage, signal: z.string(), unit: z.string() }),
  now: z.number().optional(),
  horizons: z.array(z.object({ horizonMin: z.number(), baseline: z.number(), predicted: z.number() })),
  model: z.string(),
  ts: z.number(),
});
export const recommendationMessage = z.object({
  value: z.number(),
  unit: z.string(),
  ts: z.number(),
  mode: z.enum(['auto', 'fallback']),
  reason: z.string(),
  model: z.string().optional(),
  inputs: z.record(z.string(), z.number().nullable()),
  whatIf: whatIfMessage.optional(),
  status: z.enum(['pending', 'accepted', 'rejected', 'withdrawn']),
  decidedBy: z.string().optional(),
  decidedAt: z.number().optional(),
  comment: z.string().optional(),
});
export const deadLetterMessage = z.object({
  topic: z.string(),
  reason: z.string(),
  payload: z.string(),
  ts: z.number(),
  detail: z.string().optional(),
});

const figure = z.number().nullable();
const skillFigures = z.object({ n: z.number(), r2: figure, mape: figure, mae: figure, mse: figure, mseSkill: figure });
const driftFigures = z.object({ n: z.number(), psi: figure, shift: figure });
const detectorFigures = z.object({ windows: z.number(), flagged: z.number(), flagRate: figure, flagsPerDay: figure, confirmed: z.number(), falseAlarms: z.number() });
export const modelEventMessage = z.object({
  ts: z.number(),
  event: z.enum(['activation', 'rollback', 'trigger', 'candidate', 'gate', 'shadow', 'promotion', 'rejection']),
  by: z.string(),
  previous: z.string().nullable(),
  reason: z.string(),
});
/** One model version on `edge/models`: its state, live skill and drift, the triggers that fire, the last event. */
export const modelLiveMessage = z.object({
  model: z.string(),
  name: z.string(),
  version: z.string(),
  kind: z.string(),
  state: z.enum(['active', 'shadow', 'candidate', 'rejected', 'rolled_back', 'inactive']),
  /** Per `stage.signal@horizonMin` (predictors). */
  skill: z.record(z.string(), z.object({ '24h': skillFigures, '7d': skillFigures })),
  /** Per input `stage.signal.feature`. */
  drift: z.record(z.string(), z.object({ '1d': driftFigures, '7d': driftFigures })),
  /** Inputs whose 7-day PSI is above models.lifecycle.drift.psi. */
  drifted: z.array(z.string()),
  /** Autoencoders: live flag rate and verdicts against the held-out flag rate of training. */
  detector: z.object({ trainingFlagRate: figure, '1d': detectorFigures, '7d': detectorFigures }).optional(),
  triggers: z.array(z.object({ trigger: z.string(), reason: z.string(), inputs: z.array(z.string()).optional() })),
  retrainingRequested: z.boolean(),
  lastEvent: modelEventMessage.nullable(),
});
/** The retained `wwtp/{site}/edge/models`. */
export const modelsMessage = z.object({
  ts: z.number(),
  /** Plant time the figures are at (the last window's end), null before the first window. */
  plantTs: z.number().nullable(),
  models: z.array(modelLiveMessage),
});

export type ModelEventMessage = z.infer<typeof modelEventMessage>;
export type ModelLiveMessage = z.infer<typeof modelLiveMessage>;
export type ModelsMessage = z.infer<typeof modelsMessage>;
export type ReadingJson = z.infer<typeof readingJson>;
export type AlarmAck = z.infer<typeof alarmAck>;
export type AlarmShelve = z.infer<typeof alarmShelve>;
export type LoopMode = z.infer<typeof loopMode>;
export type LoopDecision = z.infer<typeof loopDecision>;
export type WhatIfMessage = z.infer<typeof whatIfMessage>;
export type RecommendationMessage = z.infer<typeof recommendationMessage>;
export type SetpointMessage = z.infer<typeof setpointMessage>;
export type PredictionMessage = z.infer<typeof predictionMessage>;
export type IndicatorMessage = z.infer<typeof indicatorMessage>;
export type AnomalyMessage = z.infer<typeof anomalyMessage>;
export type AlarmMessage = z.infer<typeof alarmMessage>;
export type DeadLetterMessage = z.infer<typeof deadLetterMessage>;

/** Outbound topics: builder and payload type per kind. */
export interface OutTopics {
  setpoint: { params: { stage: StageId; loop: LoopId }; payload: SetpointMessage };
  recommendation: { params: { stage: StageId; loop: LoopId }; payload: RecommendationMessage };
  prediction: { params: { stage: StageId; signal: string }; payload: PredictionMessage };
  indicator: { params: { stage: StageId; name: string }; payload: IndicatorMessage };
  anomaly: { params: { stage: StageId }; payload: AnomalyMessage };
  alarm: { params: { alarmId: string }; payload: AlarmMessage };
  status: { params: Record<string, never>; payload: string };
  deadletter: { params: Record<string, never>; payload: DeadLetterMessage };
  models: { params: Record<string, never>; payload: ModelsMessage };
}
export type OutKind = keyof OutTopics;

/** QoS and retain per outbound kind (PRODUCT 4.2). */
export const OUT_OPTIONS: Record<OutKind, { qos: 0 | 1; retain: boolean }> = {
  setpoint: { qos: 1, retain: true },
  recommendation: { qos: 1, retain: true },
  prediction: { qos: 0, retain: false },
  indicator: { qos: 0, retain: false },
  anomaly: { qos: 1, retain: false },
  alarm: { qos: 1, retain: true },
  status: { qos: 1, retain: true },
  deadletter: { qos: 0, retain: false },
  models: { qos: 1, retain: true },
};

export function outTopic<K extends OutKind>(site: string, kind: K, params: OutTopics[K]['params']): string {
  const p = params as Record<string, string>;
  const base = `wwtp/${site}`;
  switch (kind) {
    case 'setpoint':
      return `${base}/${p['stage']}/setpoint/${p['loop']}`;
    case 'recommendation':
      return `${base}/${p['stage']}/recommendation/${p['loop']}`;
    case 'prediction':
      return `${base}/${p['stage']}/prediction/${p['signal']}`;
    case 'indicator':
      return `${base}/${p['stage']}/indicator/${p['name']}`;
    case 'anomaly':
      return `${base}/anomaly/${p['stage']}`;
    case 'alarm':
      return `${base}/alarms/${p['alarmId']}`;
    case 'status':
      return `${base}/edge/status`;
    case 'deadletter':
      return `${base}/edge/deadletter`;
    case 'models':
      return `${base}/edge/models`;
    default:
      throw new Error(`unknown topic kind ${String(kind)}`);
  }
}

/** Inbound topic patterns (MQTT wildcards) the daemon subscribes to. */
export function inTopics(site: string): { readings: string; hmi: string; sparkplug: string } {
  return { readings: `wwtp/${site}/+/+`, hmi: `wwtp/${site}/hmi/#`, sparkplug: 'spBv1.0/#' };
}

/** Words in the position of `{signal}` that are daemon outputs, never readings. */
export const RESERVED_SEGMENTS = ['setpoint', 'recommendation', 'prediction', 'indicator', 'edge', 'alarms', 'anomaly', 'hmi'] as const;

export const hmiAlarmAckTopic = (site: string, alarmId: string): string => `wwtp/${site}/hmi/alarms/${alarmId}/ack`;
export const hmiAlarmShelveTopic = (site: string, alarmId: string): string => `wwtp/${site}/hmi/alarms/${alarmId}/shelve`;
export const hmiLoopModeTopic = (site: string, loopId: LoopId): string => `wwtp/${site}/hmi/loops/${loopId}/mode`;
export const hmiLoopDecisionTopic = (site: string, loopId: LoopId): string => `wwtp/${site}/hmi/loops/${loopId}/decision`;
export const readingTopic = (site: string, stageId: StageId, signal: string): string => `wwtp/${site}/${stageId}/${signal}`;
