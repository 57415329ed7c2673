import { Gauge, type Registry } from 'prom-client';
import type { ModelsMessage } from '../contract/topics.js';

type Set = (labels: Record<string, string>, value: number | null | undefined) => void;

function gauge(registry: Registry, name: string, help: string, labelNames: readonly string[], fill: (set: Set, figures: ModelsMessage) => void, latest: () => ModelsMessage | undefined): void {
  if (registry.getSingleMetric(name)) return;
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      const figures = latest();
      if (!figures) return;
      fill((labels, value) => {
        if (value !== null && value !== undefined && Number.isFinite(value)) this.set(labels, value);
      }, figures);
    },
  });
}

/**
 * The live figures of `edge/models` as Prometheus gauges, read at scrape time from the last published
 * figures. Undefined figures (no samples yet) are left out rather than exported as NaN.
 */
export function registerLifecycleGauges(registry: Registry, latest: () => ModelsMessage | undefined): void {
  const skill = (name: string, help: string, pick: (f: ModelsMessage['models'][number]['skill'][string]['24h']) => number | null): void =>
    gauge(registry, name, help, ['model', 'target', 'window'], (set, figures) => {
      for (const m of figures.models) for (const [target, w] of Object.entries(m.skill)) for (const window of ['24h', '7d'] as const) set({ model: m.model, target, window }, pick(w[window]));
    }, latest);
  skill('wwtp_edge_model_live_r2', 'Live R2 of a predictor target and horizon (target = stage.signal@horizonMin) over 24 h or 7 d of plant time', (f) => f.r2);
  skill('wwtp_edge_model_live_mape_percent', 'Live mean absolute percentage error of a predictor target and horizon', (f) => f.mape);
  skill('wwtp_edge_model_live_mae', 'Live mean absolute error of a predictor target and horizon, in the signal unit', (f) => f.mae);
  skill('wwtp_edge_model_live_mse_skill', 'Live MSE skill over persistence (1 - MSE / MSE of persistence; above 0 beats persistence)', (f) => f.mseSkill);
  skill('wwtp_edge_model_live_samples', 'Predictions compared with the measured value once their horizon passed', (f) => f.n);
  gauge(registry, 'wwtp_edge_model_input_psi', 'Population stability index of a model input (stage.signal.feature) against its training distribution, today (1d) or over 7 d', ['model', 'input', 'window'], (set, figures) => {
    for (const m of figures.models) for (const [input, w] of Object.entries(m.drift)) for (const window of ['1d', '7d'] as const) set({ model: m.model, input, window }, w[window].psi);
  }, latest);
  gauge(registry, 'wwtp_edge_detector_flag_rate', 'Share of windows a detector flagged, today (1d), over 7 d, or in training (its held-out block)', ['model', 'window'], (set, figures) => {
    for (const m of figures.models) {
      if (!m.detector) continue;
      set({ model: m.model, window: 'training' }, m.detector.trainingFlagRate);
      for (const window of ['1d', '7d'] as const) set({ model: m.model, window }, m.detector[window].flagRate);
    }
  }, latest);
  gauge(registry, 'wwtp_edge_detector_flags_per_day', 'Flag episodes per day of a detector, today (1d) or over 7 d', ['model', 'window'], (set, figures) => {
    for (const m of figures.models) for (const window of ['1d', '7d'] as const) if (m.detector) set({ model: m.model, window }, m.detector[window].flagsPerDay);
  }, latest);
  gauge(registry, 'wwtp_edge_detector_verdicts', "Operators' verdicts on a detector's stage anomaly alarm over 7 d", ['model', 'verdict'], (set, figures) => {
    for (const m of figures.models) {
      if (!m.detector) continue;
      set({ model: m.model, verdict: 'confirmed' }, m.detector['7d'].confirmed);
      set({ model: m.model, verdict: 'false_alarm' }, m.detector['7d'].falseAlarms);
    }
  }, latest);
  gauge(registry, 'wwtp_edge_model_retraining_requested', 'A retraining trigger of models.lifecycle fires for the model (1), per trigger', ['model', 'trigger'], (set, figures) => {
    for (const m of figures.models) for (const t of m.triggers) set({ model: m.model, trigger: t.trigger }, 1);
  }, latest);
}
