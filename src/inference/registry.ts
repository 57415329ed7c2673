import { existsSync } from 'node:fs';
import { cp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../lib/logger.js';
import { bundleDir } from '../onnx/bundle.js';
import { ModelError } from './errors.js';
import {
  activeVersion, compareVersions, readRegistry, rollbackTarget, scanBundles, withActivation, writeRegistry,
  type ModelActivationEvent,
} from './registry-file.js';
import { inactiveTargets, isEligible } from './eligibility.js';
import { loadVerifiedModel, type LoadedModel, type SessionOptions } from './session.js';

/** An active model plus the runs still using it; a retired slot releases its session when idle. */
export interface ModelSlot {
  readonly model: LoadedModel;
  inFlight: number;
  retired: boolean;
}

export interface ModelInfo {
  readonly name: string;
  readonly version: string;
  readonly kind: string;
  readonly stage: string | null;
  readonly inputs: number;
  readonly targets: number;
  readonly threshold: number | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly createdAt: string;
  readonly sha256: string;
  readonly previous: string | null;
  /** Predictors: false when no target met the skill bar on the data it was judged on (it publishes nothing). */
  readonly eligible: boolean;
  /** Predictor targets and horizons not published, and why (manifest eligibility). */
  readonly inactiveTargets: readonly { readonly target: string; readonly reason: string }[];
}

export interface RegistryOptions extends SessionOptions {
  readonly modelsDir: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Every activation, including the initial load and those picked up from registry.json. */
  readonly onActivation: (event: ModelActivationEvent) => void;
  /** A version that failed the gate during reconcile (the running one stays). */
  readonly onFailure: (name: string, error: Error, version: string) => void;
}

/** A version in shadow: a candidate for promotion, or the version a promotion replaced, run beside it while it is watched. */
export type ShadowRole = 'candidate' | 'previous';

/** The shadow slot key of a name and role (a candidate's is the name itself). */
export function shadowKey(name: string, role: ShadowRole): string {
  return role === 'candidate' ? name : `${name}#previous`;
}

/**
 * Active models by name. A swap replaces the map entry (one reference): runs that already took the
 * old slot finish on the old session, which is released once its last run returns.
 */
export class ModelRegistry {
  private readonly slots = new Map<string, ModelSlot>();
  /**
   * Versions running in shadow beside the active version of the same name, by slot key: per name one
   * candidate (key: the name) and, while a promoted version is watched, the version it replaced (key:
   * `shadowKey(name, 'previous')`), so a new candidate never displaces the rollback's comparison.
   */
  private readonly shadowSlots = new Map<string, ModelSlot>();
  private queue: Promise<unknown> = Promise.resolve();
  /** `name@version` that failed the gate during reconcile: not retried every poll. */
  private readonly refused = new Set<string>();

  constructor(private readonly options: RegistryOptions) {}

  /** Activations never interleave (one gate, one swap, one registry write at a time). */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Takes the current slot for one run; pair with `release`. */
  acquire(name: string): ModelSlot | undefined {
    const slot = this.slots.get(name);
    if (slot) slot.inFlight += 1;
    return slot;
  }

  /** Takes a shadow slot (by its key, see `shadowNames`) for one run; pair with `release`. */
  acquireShadow(key: string): ModelSlot | undefined {
    const slot = this.shadowSlots.get(key);
    if (slot) slot.inFlight += 1;
    return slot;
  }

  /** The keys of the shadow slots in use (a candidate's is its model name). */
  shadowNames(): string[] {
    return [...this.shadowSlots.keys()].sort();
  }

  getShadow(key: string): LoadedModel | undefined {
    return this.shadowSlots.get(key)?.model;
  }

  /**
   * Loads a version through the activation gate (sha256, inputs, reference outputs) into a shadow slot of
   * its name: the candidate's, or (`role: 'previous'`) that of the version a promotion replaced; what ran in
   * that slot before is released.
   */
  startShadow(name: string, version: string, dir: string, role: ShadowRole = 'candidate'): Promise<LoadedModel> {
    return this.serial(async () => {
      if (this.slots.get(name)?.model.version === version) throw new ModelError('MODEL_GATE_FAILED', `${name}@${version} is the active version`);
      const model = await loadVerifiedModel(dir, this.options);
      if (model.name !== name || model.version !== version) {
        await model.session.release();
        throw new ModelError('MODEL_GATE_FAILED', `bundle in ${dir} names itself ${model.id}, not ${name}@${version}`);
      }
      const key = shadowKey(name, role);
      this.retireShadow(key);
      this.shadowSlots.set(key, { model, inFlight: 0, retired: false });
      this.options.logger.info({ model: model.id, dir, role, referenceDiff: model.referenceDiff }, 'model in shadow');
      return model;
    });
  }

  /** Ends a shadow run: the session goes once its last run returned. */
  stopShadow(name: string, role: ShadowRole = 'candidate'): void {
    this.retireShadow(shadowKey(name, role));
  }

  private retireShadow(name: string): void {
    const old = this.shadowSlots.get(name);
    if (!old) return;
    this.shadowSlots.delete(name);
    old.retired = true;
    if (old.inFlight === 0) void this.dispose(old);
  }

  /**
   * The shadow candidate becomes the active version: its bundle is copied into `<models.dir>/<name>/<version>`
   * (one rename), registry.json records the promotion (so `models rollback` and a restart know it), then the
   * slot is swapped. The session that ran in shadow goes on serving: no load, no gap between windows.
   * `role: 'previous'`: the version running beside a watched one (the reversal of an automatic rollback).
   */
  promote(name: string, version: string, reason: string, role: ShadowRole = 'candidate'): Promise<ModelActivationEvent> {
    return this.serial(async () => {
      const key = shadowKey(name, role);
      const shadow = this.shadowSlots.get(key);
      if (!shadow || shadow.model.version !== version) throw new ModelError('MODEL_NOT_FOUND', `${name}@${version} is not in shadow`, 2);
      const target = resolve(bundleDir(this.options.modelsDir, name, version));
      if (resolve(shadow.model.dir) !== target && !existsSync(target)) {
        const staging = join(dirname(target), `.${basename(target)}.promote-${this.options.now()}`);
        try {
          await cp(shadow.model.dir, staging, { recursive: true });
          await rename(staging, target);
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      }
      const previous = this.slots.get(name)?.model.version ?? null;
      const event: ModelActivationEvent = { ts: this.options.now(), name, version, previous, action: 'promote', by: 'daemon', reason };
      await this.record(name, event, previous);
      // The shadow slot is handed over, not retired: its session is the active one now.
      this.shadowSlots.delete(key);
      this.install({ ...shadow.model, dir: target });
      this.options.logger.info({ model: shadow.model.id, previous, reason }, 'model promoted');
      this.options.onActivation(event);
      return event;
    });
  }

  private async record(name: string, event: ModelActivationEvent, previous: string | null): Promise<void> {
    let state = await readRegistry(this.options.modelsDir);
    // The implicitly active version (newest at boot) goes on the stack first, so rollback can reach it.
    if (!activeVersion(state, name) && previous) state = withActivation(state, { ...event, version: previous, previous: null, action: 'initial', reason: undefined });
    await writeRegistry(this.options.modelsDir, withActivation(state, event));
  }

  release(slot: ModelSlot): void {
    slot.inFlight -= 1;
    if (slot.retired && slot.inFlight === 0) void this.dispose(slot);
  }

  names(): string[] {
    return [...this.slots.keys()].sort();
  }

  get(name: string): LoadedModel | undefined {
    return this.slots.get(name)?.model;
  }

  private async dispose(slot: ModelSlot): Promise<void> {
    try {
      await slot.model.session.release();
    } catch (error) {
      this.options.logger.warn({ model: slot.model.id, err: error }, 'session release failed');
    }
  }

  private install(model: LoadedModel): string | null {
    const old = this.slots.get(model.name);
    this.slots.set(model.name, { model, inFlight: 0, retired: false });
    if (!old) return null;
    old.retired = true;
    if (old.inFlight === 0) void this.dispose(old);
    return old.model.version;
  }

  private async swapIn(name: string, version: string, action: ModelActivationEvent['action'], writeFile: boolean, origin?: Pick<ModelActivationEvent, 'by' | 'ts' | 'reason'>): Promise<ModelActivationEvent> {
    const model = await loadVerifiedModel(bundleDir(this.options.modelsDir, name, version), this.options);
    if (model.name !== name || model.version !== version) {
      await model.session.release();
      throw new ModelError('MODEL_GATE_FAILED', `bundle in ${name}/${version} names itself ${model.id}`);
    }
    const previous = this.install(model);
    const event: ModelActivationEvent = { ts: origin?.ts ?? this.options.now(), name, version, previous, action, by: origin?.by ?? 'daemon', ...(origin?.reason !== undefined ? { reason: origin.reason } : {}) };
    if (writeFile) await this.record(name, event, previous);
    this.options.logger.info({ model: model.id, previous, action, referenceDiff: model.referenceDiff }, 'model activated');
    this.options.onActivation(event);
    return event;
  }

  activate(name: string, version: string): Promise<ModelActivationEvent> {
    return this.serial(() => this.swapIn(name, version, 'activate', true));
  }

  /** Back to the version before the current one; `reason`: the daemon's automatic rollback. */
  rollback(name: string, reason?: string): Promise<ModelActivationEvent> {
    return this.serial(async () => {
      const { to } = rollbackTarget(await readRegistry(this.options.modelsDir), name);
      return this.swapIn(name, to, 'rollback', true, reason !== undefined ? { by: 'daemon', ts: this.options.now(), reason } : undefined);
    });
  }

  /**
   * Brings the sessions in line with registry.json: models without an entry start on their newest
   * version. A version that fails the gate is reported and the running one stays.
   */
  reconcile(): Promise<ModelActivationEvent[]> {
    return this.serial(async () => {
      const state = await readRegistry(this.options.modelsDir);
      const bundles = await scanBundles(this.options.modelsDir);
      const names = [...new Set(bundles.map((b) => b.name))];
      const events: ModelActivationEvent[] = [];
      for (const name of names) {
        const wanted = activeVersion(state, name) ?? bundles.filter((b) => b.name === name).map((b) => b.version).sort(compareVersions).at(-1);
        if (!wanted || this.slots.get(name)?.model.version === wanted || this.refused.has(`${name}@${wanted}`)) continue;
        // The registry.json event that asked for this version (`wwtp-edge models activate|rollback`): its
        // action, author and time go on the daemon's event, so a restart records the same event again.
        const asked = activeVersion(state, name) ? state.events.findLast((e) => e.name === name && e.version === wanted) : undefined;
        try {
          const action = asked ? (asked.action === 'initial' ? 'activate' : asked.action) : activeVersion(state, name) ? 'activate' : 'initial';
          events.push(await this.swapIn(name, wanted, action, false, asked));
        } catch (error) {
          this.refused.add(`${name}@${wanted}`);
          this.options.onFailure(name, error as Error, wanted);
        }
      }
      return events;
    });
  }

  list(): ModelInfo[] {
    return this.names().flatMap((name) => {
      const model = this.slots.get(name)?.model;
      if (!model) return [];
      const m = model.manifest;
      return [{
        name, version: model.version, kind: m.kind, stage: model.stage ?? null, inputs: model.inputs.length, targets: model.targets.length,
        threshold: m.threshold ?? null, metrics: m.metrics, createdAt: m.createdAt, sha256: m.onnx.sha256, previous: null,
        eligible: isEligible(model), inactiveTargets: inactiveTargets(model),
      }];
    });
  }

  /** Releases every idle session; busy ones go when their last run returns. */
  async close(): Promise<void> {
    await this.queue;
    const slots = [...this.slots.values(), ...this.shadowSlots.values()];
    this.slots.clear();
    this.shadowSlots.clear();
    await Promise.all(slots.map(async (slot) => {
      slot.retired = true;
      if (slot.inFlight === 0) await this.dispose(slot);
    }));
  }
}
