import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join, resolve } from 'node:path';
import { gateFailedCondition, retrainFailedCondition } from '../alarms/system.js';
import type { EdgeConfig } from '../config/schema.js';
import type { AlarmSink } from '../contract/ports.js';
import { childEntryArgs } from '../lib/child-entry.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { TrainableModel } from '../models/train.js';
import { gateSummary } from './gate.js';
import type { RetrainJob, RetrainResult } from './retrain-job.js';

/** An active version whose triggers started firing (the monitor's request). */
export interface RetrainRequest {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly kind: 'autoencoder' | 'predictor';
  /** The stage the version watches or predicts (its alarms' stage). */
  readonly stage: string;
  /** The active bundle's folder, the gate's reference. */
  readonly dir: string;
  /** The triggers that started firing (as on edge/models). */
  readonly triggers: readonly { readonly trigger: string; readonly reason: string; readonly inputs?: readonly string[] | undefined }[];
}

/** What the monitor records of a candidate and its gate (model_events rows, `edge/models`). */
export interface CandidateNotice {
  readonly ts: number;
  readonly name: string;
  readonly version: string;
  readonly kind: string;
  readonly reason: string;
  readonly detail: unknown;
}
export interface GateNotice extends CandidateNotice {
  readonly passed: boolean;
  /** The candidate's bundle folder and the stage of its alarms (a passed candidate may run in shadow). */
  readonly dir?: string | undefined;
  readonly stage?: string | undefined;
}

export interface RetrainContext {
  /** The whole config: the child trains with the daemon's windows and signals. */
  readonly config: Readonly<EdgeConfig>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly alarms: AlarmSink;
  readonly onCandidate: (e: CandidateNotice) => void;
  readonly onGate: (e: GateNotice) => void;
  /** After each child ended (tests, benches). */
  readonly onJobDone?: (id: string, ok: boolean) => void;
}

interface Pending {
  kind: TrainableModel;
  requests: Map<string, RetrainRequest>;
}

interface Running {
  readonly id: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stopping: boolean;
}

const STDERR_TAIL = 20;
const STOP_WAIT_MS = 3_000;

const kindOf = (r: RetrainRequest): TrainableModel => (r.kind === 'autoencoder' ? 'autoencoder' : 'predictors');
const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');

/** The child's command: the built worker, or the sources through tsx when the daemon runs from them. */
const workerArgs = (maxHeapMb: number): string[] => childEntryArgs(import.meta.url, './retrain-worker', maxHeapMb);

/**
 * Retraining in the background (issue 15 item 4): a request (a trigger that started firing) queues its
 * model kind; at most `retrain.maxConcurrent` children train at a time, each at niceness `retrain.nice`
 * with a heap of `retrain.maxHeapMb`, reading the daemon's store file (read only, beside the daemon's
 * WAL writes) and writing under `<models.dir>/candidates`. The child runs the quality gate too; the
 * daemon's event loop only reads its one-line result and records the candidate and gate events. A failed
 * gate raises the low alarm `model.gate.<name>`, a passing candidate clears it and stays a candidate.
 */
export function createRetrainer(ctx: RetrainContext) {
  const cfg = ctx.config.models.lifecycle.retrain;
  const log = ctx.logger.child({ component: 'retrain' });
  const candidates = resolve(ctx.config.models.dir, 'candidates');
  const pending = new Map<TrainableModel, Pending>();
  const running = new Map<TrainableModel, Running>();
  const startedAt = new Map<string, number>();
  let open = false;

  function coolingDown(name: string): boolean {
    if (cfg.cooldownHours === undefined) return false;
    const last = startedAt.get(name);
    return last !== undefined && ctx.clock.now() - last < cfg.cooldownHours * 3_600_000;
  }

  function finish(kind: TrainableModel, job: RetrainJob, requests: readonly RetrainRequest[], code: number | null, stdout: string, stderr: string[]): void {
    const ts = ctx.clock.now();
    const lastLine = stdout.trim().split('\n').pop() ?? '';
    let result: RetrainResult | undefined;
    try {
      result = code === 0 ? (JSON.parse(lastLine) as RetrainResult) : undefined;
    } catch {
      result = undefined;
    }
    if (!result) {
      const why = stderr.filter((l) => l.trim()).slice(-3).join(' / ') || `exit ${code ?? 'signal'}`;
      log.error({ job: job.id, kind, code, stderr: stderr.slice(-STDERR_TAIL) }, `retraining of ${kind} failed: ${why}`);
      for (const r of requests) ctx.alarms.raise(retrainFailedCondition(r.name, r.stage, why), ts);
      return;
    }
    for (const miss of result.notTrained) {
      const r = requests.find((x) => x.name === miss.name);
      log.warn({ job: job.id, model: miss.name }, `${miss.name}: retraining made no candidate: ${miss.why}`);
      if (r) ctx.alarms.raise(retrainFailedCondition(r.name, r.stage, miss.why), ts);
    }
    for (const c of result.candidates) {
      const r = requests.find((x) => x.name === c.name);
      const id = `${c.name}@${c.version}`;
      const blocks = result.blocks ? `; trained on ${result.blocks.train.windows} windows, held out ${result.blocks.heldOut.windows}` : '';
      const asked = r ? r.triggers.map((t) => t.trigger).join(', ') : 'request';
      ctx.onCandidate({ ts, name: c.name, version: c.version, kind: r?.kind ?? 'model', reason: `candidate trained in the background for ${r?.id ?? c.name} (${asked})${blocks}, kept in ${c.dir}`, detail: { job: job.id, dir: c.dir, source: result.source, blocks: result.blocks, metrics: c.metrics, triggers: r?.triggers ?? [] } });
      const summary = gateSummary(c.report);
      ctx.onGate({ ts, name: c.name, version: c.version, kind: r?.kind ?? 'model', passed: c.report.passed, reason: summary, detail: c.report, dir: c.dir, stage: r?.stage });
      log.info({ job: job.id, model: id, passed: c.report.passed }, `${id}: ${summary}`);
      if (c.report.passed) ctx.alarms.clear(gateFailedCondition(c.name, r?.stage ?? 'effluent', c.report).id, ts, `${id}: ${summary}; kept as a candidate`);
      else ctx.alarms.raise(gateFailedCondition(c.name, r?.stage ?? 'effluent', c.report), ts);
    }
  }

  function launch(next: Pending): void {
    const now = ctx.clock.now();
    const requests = [...next.requests.values()];
    const id = `${stamp(now)}-${next.kind}`;
    const job: RetrainJob = {
      id,
      kind: next.kind,
      models: requests.map((r) => r.name),
      store: resolve(ctx.config.storage.path),
      candidates,
      version: `r${stamp(now)}`,
      active: Object.fromEntries(requests.map((r) => [r.name, r.dir])),
      nice: cfg.nice,
      config: ctx.config as EdgeConfig,
    };
    const jobs = join(candidates, '.jobs');
    mkdirSync(jobs, { recursive: true });
    const file = join(jobs, `${id}.json`);
    writeFileSync(file, JSON.stringify(job));
    for (const r of requests) startedAt.set(r.name, now);
    const child = spawn(process.execPath, [...workerArgs(cfg.maxHeapMb), file], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    try {
      if (child.pid !== undefined) setPriority(child.pid, cfg.nice);
    } catch (error) {
      log.warn({ err: String(error) }, 'training child priority not lowered (it lowers its own)');
    }
    let stdout = '';
    const stderr: string[] = [];
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      stderr.push(...d.toString().split('\n'));
      if (stderr.length > STDERR_TAIL * 4) stderr.splice(0, stderr.length - STDERR_TAIL);
    });
    const timeout = ctx.clock.setTimeout(() => {
      log.error({ job: id, timeoutMin: cfg.timeoutMin }, `retraining of ${next.kind} still running after ${cfg.timeoutMin} min: killed`);
      child.kill('SIGKILL');
    }, cfg.timeoutMin * 60_000);
    const entry: Running = {
      id,
      child,
      stopping: false,
      exited: new Promise<void>((done) => {
        child.once('error', (error) => log.error({ job: id, err: String(error) }, 'training child did not start'));
        child.once('close', (code) => {
          timeout.clear();
          running.delete(next.kind);
          rmSync(file, { force: true });
          // a child stopped with the daemon leaves no half-written bundle
          if (entry.stopping) rmSync(join(candidates, `.staging-${id}`), { recursive: true, force: true });
          if (!entry.stopping) {
            try {
              finish(next.kind, job, requests, code, stdout, stderr);
            } catch (error) {
              log.error({ job: id, err: String(error) }, 'retraining result not recorded');
            }
            ctx.onJobDone?.(id, code === 0);
            pump();
          }
          done();
        });
      }),
    };
    running.set(next.kind, entry);
    log.info({ job: id, kind: next.kind, models: job.models, pid: child.pid, nice: cfg.nice, maxHeapMb: cfg.maxHeapMb }, `retraining ${job.models.join(', ')} in the background (${next.kind}, from ${job.store})`);
  }

  function pump(): void {
    if (!open) return;
    for (const [kind, next] of pending) {
      if (running.size >= cfg.maxConcurrent) return;
      if (running.has(kind)) continue;
      pending.delete(kind);
      launch(next);
    }
  }

  return {
    name: 'retrain' as const,
    start(): Promise<void> {
      open = cfg.enabled;
      return Promise.resolve();
    },
    /** A trigger started firing for an active version: its kind is retrained unless in cooldown. */
    request(r: RetrainRequest): void {
      if (!open) return;
      if (coolingDown(r.name)) {
        log.info({ model: r.id, cooldownHours: cfg.cooldownHours }, `${r.id}: retraining not started, retrained less than ${cfg.cooldownHours} h ago`);
        return;
      }
      const kind = kindOf(r);
      const next = pending.get(kind) ?? { kind, requests: new Map<string, RetrainRequest>() };
      next.requests.set(r.name, r);
      pending.set(kind, next);
      pump();
    },
    /** Jobs training now. */
    running(): string[] {
      return [...running.values()].map((r) => r.id);
    },
    async stop(): Promise<void> {
      open = false;
      pending.clear();
      const children = [...running.values()];
      for (const r of children) {
        r.stopping = true;
        r.child.kill('SIGTERM');
      }
      const late = ctx.clock.setTimeout(() => children.forEach((r) => r.child.kill('SIGKILL')), STOP_WAIT_MS);
      await Promise.all(children.map((r) => r.exited));
      late.clear();
    },
  };
}
export type Retrainer = ReturnType<typeof createRetrainer>;
