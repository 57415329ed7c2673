import type { HistoryTable, TableRows } from '../../src/contract/rows.js';
import type { SiteRow } from '../../src/store/reader.js';

/** One row per table, with awkward values: nulls, quotes, unicode, big timestamps, non-round doubles. */
export function sampleRows(i: number): { [T in HistoryTable]: TableRows[T] } {
  const ts = 1_700_000_000_000 + i * 60_000;
  return {
    readings: { stage: 'aerobic', signal: 'do', ts, value: 1.1 + i / 7, quality: 'good' },
    windows: { stage: 'anoxic', windowStart: ts - 300_000, windowEnd: ts, quality: 0.875, features: JSON.stringify({ no3: { mean: 3.3 + i } }) },
    indicators: { stage: 'effluent', name: 'tn_load', ts, value: 123.456 * i, unit: 'kg/d' },
    predictions: { stage: 'aerobic', signal: 'nh4', ts, horizonMin: 30, value: 0.1 + i / 3, unit: 'mg/L', model: 'pred-aerobic@3', persistence: i % 2 ? null : 0.2 + i / 7 },
    anomalies: {
      stage: 'aerobic', ts, score: i % 5 === 4 ? null : 0.02 * i, threshold: 0.5, isAnomaly: i % 2 === 0, contributors: '[{"signal":"do","share":0.7}]', model: 'ae@1',
      verdict: i % 5 === 4 ? 'none' : i % 3 ? 'scored' : 'partial', missing: i % 3 && i % 5 !== 4 ? null : '[{"input":"aerobic.ph.mean","reason":"stale"}]',
    },
    alarm_events: { alarmId: `stale.aerobic.do`, ts, state: i % 2 ? 'active_unack' : 'cleared', severity: 'high', stage: 'aerobic', signal: i % 3 ? 'do' : null, message: `DO stale "${i}" – ünïcode`, by: i % 2 ? null : 'op1', comment: i % 2 ? null : `pump "${i}" checked – ok`, ackedAt: i % 2 ? null : ts + 30_000, verdict: i % 2 ? null : i % 4 ? 'confirmed' : 'false_alarm' },
    operator_actions: { ts, by: i % 2 ? 'op1' : 'nuit-équipe', action: i % 2 ? 'alarm_ack' : 'loop_mode', target: i % 2 ? 'stale.aerobic.do' : 'do', source: i % 2 ? 'mqtt' : 'http', detail: `{"comment":"it's \\"ok\\" ${i}"}` },
    model_events: { ts, model: `predict-aerobic@1.${i}`, event: i % 2 ? 'activation' : 'trigger', by: i % 2 ? 'cli' : 'daemon', previous: i % 2 ? `1.${i - 1}` : null, reason: `retraining requested: aerobic.nh4_n@60 7-day MAPE "${i}" % – ü`, detail: `{"inputs":["aerobic.do.mean"],"n":${i}}` },
    shadow_outputs: { model: `predict-aerobic@r${i}`, stage: 'aerobic', signal: i % 2 ? 'no3_n' : 'anomaly_score', ts, horizonMin: i % 2 ? 60 : 0, value: 4.25 + i / 7, unit: i % 2 ? 'mg/L' : '', persistence: i % 2 ? 4.1 + i / 9 : null, threshold: i % 2 ? null : 0.75, isAnomaly: i % 4 === 0 },
    setpoints: { loop: 'do', stage: 'aerobic', ts, value: 2 + i / 9, unit: 'mg/L', mode: 'auto', reason: 'policy', model: i % 2 ? null : 'ctl@2', validUntil: ts + 900_000, inputs: '{"nh4":1.2}' },
  };
}

export function withSite<T extends HistoryTable>(site: string, rows: readonly TableRows[T][]): SiteRow<T>[] {
  return rows.map((r) => ({ ...r, site }) as SiteRow<T>);
}
