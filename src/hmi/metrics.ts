import { Gauge, type Registry } from 'prom-client';

/**
 * Gauges for the dashboards: the store's disk budget; read at each scrape, standing alarms by state and
 * priority and each active model's figures from its bundle (its held-out skill per target and horizon).
 */
export function registerOperatorGauges(
  registry: Registry,
  sources: {
    readonly alarms: () => readonly { readonly state: string; readonly severity: string }[];
    readonly models: () => readonly { readonly name: string; readonly version: string; readonly metrics: Readonly<Record<string, number>> }[];
    readonly storeBudgetBytes: number;
  },
): void {
  new Gauge({ name: 'wwtp_edge_store_budget_bytes', help: 'The disk budget of the store (storage.maxBytes)', registers: [registry] }).set(sources.storeBudgetBytes);
  new Gauge({
    name: 'wwtp_edge_alarms',
    help: 'Alarms by ISA-18.2 state and priority (cleared ones are not counted)',
    labelNames: ['state', 'severity'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const a of sources.alarms()) if (a.state !== 'cleared') this.inc({ state: a.state, severity: a.severity });
    },
  });
  new Gauge({
    name: 'wwtp_edge_model_metric',
    help: "Active models' figures from their bundles (e.g. MSE skill over persistence per target and horizon)",
    labelNames: ['model', 'version', 'metric'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const m of sources.models()) {
        for (const [metric, value] of Object.entries(m.metrics)) if (Number.isFinite(value)) this.set({ model: m.name, version: m.version, metric }, value);
      }
    },
  });
}
