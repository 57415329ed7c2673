import type { EdgeConfig } from '../config/schema.js';
import { STAGES } from '../contract/plant.js';
import type { HmiCommand, TableWriter } from '../contract/ports.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { createHmiApp } from './app.js';
import { createCommandDispatch, type CommandDispatch, type CommandSource, type CommandTargets } from './commands.js';
import { createLiveHub } from './live.js';
import { createSessions } from './sessions.js';
import type { TrendSource } from './trend.js';

export { createCommandDispatch, type CommandDispatch, type CommandSource } from './commands.js';
export { createSessions, SESSION_COOKIE } from './sessions.js';
export { createLiveHub, type LiveHub } from './live.js';

export interface HmiContext {
  readonly config: Readonly<EdgeConfig>;
  /** The daemon's clock (plant time in the demo): commands are stamped with it, as over MQTT. */
  readonly clock: Clock;
  /** Wall time: session expiry, when a reading arrived (the browser shows its age); default the system's. */
  readonly wallClock?: Clock | undefined;
  readonly logger: Logger;
  readonly tables: TableWriter;
  readonly store: TrendSource;
  /** Resolved late: the alarm module and control are built after the publisher the hub listens to. */
  readonly targets: () => CommandTargets & { readonly alarms: { list(): { alarms: readonly { id: string }[] } } };
  readonly secure: boolean;
}

/**
 * The operator's web HMI (PRODUCT 4.3 `/`): the live hub fed by committed readings and the daemon's
 * output, sessions against broker.embedded.users, the pages and actions. Actions and MQTT HMI commands
 * share `dispatch`.
 */
export function createHmi(ctx: HmiContext) {
  const cfg = ctx.config.hmi;
  const idleMs = cfg.sessionIdleMin * 60_000;
  const loops = (): unknown => ctx.targets().control.snapshot();
  const wall = ctx.wallClock ?? systemClock;
  const hub = createLiveHub({
    clock: wall,
    intervalMs: cfg.liveIntervalMs,
    maxClients: cfg.maxLiveClients,
    loops,
    meta: () => ({
      site: ctx.config.site,
      stages: STAGES,
      staleAfterPeriods: ctx.config.windows.staleAfterPeriods,
      storageMaxBytes: ctx.config.storage.maxBytes,
      signals: ctx.config.signals.map((s) => ({ stage: s.stage, id: s.id, unit: s.unit, min: s.min, max: s.max, periodSec: s.periodSec, description: s.description })),
      loops: ctx.config.control.loops
        .filter((l) => l.enabled !== false)
        .map((l) => ({ id: l.id, stage: l.stage, unit: l.unit, min: l.min, max: l.max, maxStep: l.maxStep, fallback: l.fallback, feedback: l.feedback })),
    }),
  });
  let dispatch: CommandDispatch | undefined;
  const dispatchOnce = (cmd: HmiCommand, source: CommandSource): void => {
    dispatch ??= createCommandDispatch({ targets: ctx.targets(), tables: ctx.tables, logger: ctx.logger });
    dispatch(cmd, source);
    hub.touchLoops();
  };
  const sessions = createSessions({ users: ctx.config.broker.embedded.users, clock: wall, idleMs, maxSessions: cfg.maxSessions });
  const app = createHmiApp({
    sessions,
    hub,
    dispatch: dispatchOnce,
    clock: ctx.clock,
    logger: ctx.logger,
    secure: ctx.secure,
    idleMs,
    alarmExists: (id) => ctx.targets().alarms.list().alarms.some((a) => a.id === id),
    pendingRecommendation: (loop) => ctx.targets().control.snapshot()[loop]?.pending !== undefined,
    store: ctx.store,
  });
  return {
    name: 'hmi' as const,
    hub,
    dispatch: dispatchOnce,
    app: cfg.enabled ? app : undefined,
    start(): Promise<void> {
      hub.start();
      return Promise.resolve();
    },
    stop(): Promise<void> {
      hub.stop();
      return Promise.resolve();
    },
  };
}
export type Hmi = ReturnType<typeof createHmi>;
