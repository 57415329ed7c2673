import type { Publisher } from '../contract/ports.js';
import type { Clock } from '../lib/clock.js';
import type { Component } from '../lib/lifecycle.js';

/** The health summary published (retained) on wwtp/{site}/edge/status after "online". */
export interface HealthSummary {
  readonly status: 'online';
  readonly ts: number;
  readonly uptimeSec: number;
  readonly version: string;
  readonly checks: Record<string, boolean>;
  readonly [detail: string]: unknown;
}

export interface StatusDeps {
  readonly publisher: Publisher;
  readonly clock: Clock;
  readonly intervalSec: number;
  readonly version: string;
  readonly readiness: () => Record<string, boolean>;
  /** Extra figures (readings in, dead letters, sync lag, shedding, models...). */
  readonly details: () => Record<string, unknown>;
  /** Milliseconds since the process started (default: performance.now(), whose origin is the process start). */
  readonly uptimeMs?: () => number;
}

export interface StatusReporter extends Component {
  /** Publishes a summary now (e.g. after a model activation or when shedding starts). */
  publishNow(extra?: Record<string, unknown>): void;
}

export function createStatusReporter(deps: StatusDeps): StatusReporter {
  let timer: { clear(): void } | undefined;
  let online = false;
  const uptimeMs = deps.uptimeMs ?? ((): number => performance.now());
  const summary = (extra: Record<string, unknown> = {}): HealthSummary => ({
    status: 'online',
    ts: deps.clock.now(),
    uptimeSec: Math.round(uptimeMs() / 1000),
    version: deps.version,
    checks: deps.readiness(),
    ...deps.details(),
    ...extra,
  });
  // "online" comes first: what happens before it (models activating at boot) is in the first summary;
  // once stopped, nothing may overwrite the retained `offline` the runtime publishes last.
  const publishNow = (extra?: Record<string, unknown>): void => {
    if (!online) return;
    deps.publisher.publish('status', {}, JSON.stringify(summary(extra)));
  };
  return {
    name: 'status',
    async start() {
      deps.publisher.publish('status', {}, 'online');
      online = true;
      publishNow();
      timer = deps.clock.setInterval(() => publishNow(), deps.intervalSec * 1000);
    },
    async stop() {
      timer?.clear();
      timer = undefined;
      online = false;
    },
    publishNow,
  };
}
