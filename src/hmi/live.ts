import type { ServerResponse } from 'node:http';
import type { Reading } from '../contract/reading.js';
import type { OutKind, OutTopics } from '../contract/topics.js';
import type { Clock } from '../lib/clock.js';

/** One entry of the live picture: what changed, under a stable key. */
export interface LiveUpdate {
  readonly kind: 'reading' | OutKind | 'loops';
  readonly key: string;
  readonly data: unknown;
}

export interface LiveHubContext {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly maxClients: number;
  /** The loops' modes and pending recommendations (control's snapshot), sent when they may have changed. */
  readonly loops: () => unknown;
  /** Static facts the page needs: site, stages, signals, loops' envelopes. */
  readonly meta: () => unknown;
}

/** A browser that stops reading is dropped past this much unsent data. */
const MAX_BUFFERED_BYTES = 1 << 20;
const KEEPALIVE_MS = 15_000;
const LIVE_KINDS = new Set<OutKind>(['setpoint', 'recommendation', 'prediction', 'indicator', 'anomaly', 'alarm', 'status']);

function keyOf(kind: OutKind, params: Record<string, string>): string {
  return Object.values(params).join('.') || kind;
}

/**
 * The live picture of the plant for the web HMI, kept in memory from the committed readings and the
 * daemon's own MQTT output (no database query per browser). Browsers get it whole when they connect,
 * then the changes, batched and de-duplicated per key, every intervalMs over server-sent events.
 */
export function createLiveHub(ctx: LiveHubContext) {
  const state = new Map<string, LiveUpdate>();
  const pending = new Map<string, LiveUpdate>();
  const clients = new Set<ServerResponse>();
  let loopsDirty = false;
  let timer: { clear(): void } | undefined;
  let quiet = 0;

  const put = (update: LiveUpdate): void => {
    const id = `${update.kind}:${update.key}`;
    state.set(id, update);
    if (clients.size > 0) pending.set(id, update);
  };

  const send = (res: ServerResponse, event: string, data: unknown): void => {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const flush = (): void => {
    if (loopsDirty) {
      loopsDirty = false;
      put({ kind: 'loops', key: 'loops', data: ctx.loops() });
    }
    if (pending.size === 0) {
      // a comment line now and then keeps proxies and the browser from closing a quiet stream
      quiet += 1;
      if (quiet * ctx.intervalMs >= KEEPALIVE_MS) {
        quiet = 0;
        for (const res of clients) res.write(': keepalive\n\n');
      }
      return;
    }
    quiet = 0;
    const batch = [...pending.values()];
    pending.clear();
    for (const res of [...clients]) send(res, 'batch', batch);
  };

  return {
    start(): void {
      timer ??= ctx.clock.setInterval(flush, ctx.intervalMs);
    },
    stop(): void {
      timer?.clear();
      timer = undefined;
      for (const res of clients) res.end();
      clients.clear();
    },
    onReadings(readings: readonly Reading[]): void {
      const at = ctx.clock.now();
      for (const r of readings) {
        const key = `${r.stage}.${r.signal}`;
        const previous = state.get(`reading:${key}`)?.data as { ts: number } | undefined;
        if (previous && previous.ts > r.ts) continue;
        put({ kind: 'reading', key, data: { stage: r.stage, signal: r.signal, value: r.value, quality: r.quality, ts: r.ts, receivedAt: at } });
      }
    },
    /** Every typed publish of the daemon passes here (setpoints, alarms, anomalies...). */
    onPublish<K extends OutKind>(kind: K, params: OutTopics[K]['params'], payload: OutTopics[K]['payload']): void {
      if (!LIVE_KINDS.has(kind)) return;
      let data: unknown = payload;
      if (kind === 'status') {
        if (typeof payload !== 'string' || !payload.startsWith('{')) return;
        data = JSON.parse(payload);
      }
      put({ kind, key: keyOf(kind, params as Record<string, string>), data });
      if (kind === 'setpoint' || kind === 'recommendation') loopsDirty = true;
    },
    /** A command changed a loop's mode or decided a recommendation. */
    touchLoops(): void {
      loopsDirty = true;
    },
    snapshot(): { meta: unknown; loops: unknown; updates: LiveUpdate[] } {
      return { meta: ctx.meta(), loops: ctx.loops(), updates: [...state.values()] };
    },
    /** Opens an event stream on the response; false when too many browsers are connected. */
    attach(res: ServerResponse): boolean {
      if (clients.size >= ctx.maxClients) return false;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      clients.add(res);
      res.on('close', () => clients.delete(res));
      send(res, 'snapshot', this.snapshot());
      return true;
    },
    clients: (): number => clients.size,
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
