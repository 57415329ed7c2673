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
}

export interface StatusReporter extends Component {
  /** Publishes a summary now (e.g. after a model activation or when shedding starts). */
  publishNow(extra?: Record<string, unknown>): void;
}

export function createStatusReporter(deps: StatusDeps): StatusReporter {
  let timer: { clear(): void } | undefined;
  let startedAt = 0;
  const summary = (extra: Record<string, unknown> = {}): HealthSummary => ({
    status: 'online',
    ts: deps.clock.now(),
    uptimeSec: Math.round((deps.clock.now() - startedAt) / 1000),
    version: deps.version,
    checks: deps.readiness(),
    ...deps.details(),
    ...extra,
  });
  // Once stopped, nothing may overwrite the retained `offline` the runtime publishes last.
  let stopped = false;
  const publishNow = (extra?: Record<string, unknown>): void => {
    if (stopped) return;
    deps.publisher.publish('status', {}, JSON.stringify(summary(extra)));
  };
  return {
    name: 'status',
    async start() {
      stopped = false;
      startedAt = deps.clock.now();
      deps.publisher.publish('status', {}, 'online');
      publishNow();
      timer = deps.clock.setInterval(() => publishNow(), deps.intervalSec * 1000);
    },
    async stop() {
      stopped = true;
      timer?.clear();
      timer = undefined;
    },
    publishNow,
  };
}
