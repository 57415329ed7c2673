import { z } from 'zod';
import { isLoop } from '../contract/plant.js';
import { POLICIES } from '../control/policies/index.js';
import { isTree, type ConfigPath, type RawIssue } from './merge.js';
import { checkTags, tagsSchema } from './sections/tags.js';

/**
 * Cross-references between sections: every place that names a signal (`stage` + `signal`, or
 * `stage.signal`) or a loop must name a configured one. Runs on the merged tree as it is, next to the
 * schema and not after it, so that a broken signal elsewhere does not hide a bad reference (every
 * error at once, not in passes); entries that are malformed are left to the schema.
 */

type Tree = Record<string, unknown>;

export interface ReferenceFindings {
  readonly errors: RawIssue[];
  readonly warnings: RawIssue[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const at = (tree: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((node, key) => (isTree(node) ? node[key] : undefined), tree);
const entries = (v: unknown): [number, Tree][] => (Array.isArray(v) ? v.flatMap((e, i): [number, Tree][] => (isTree(e) ? [[i, e]] : [])) : []);

interface Plant {
  /** `stage.signal` -> unit (undefined when the unit itself is broken). */
  readonly units: ReadonlyMap<string, string | undefined>;
  readonly stages: ReadonlySet<string>;
  readonly loops: ReadonlySet<string>;
}

function plantOf(tree: unknown): Plant {
  const units = new Map<string, string | undefined>();
  const stages = new Set<string>();
  for (const [, s] of entries(at(tree, 'signals'))) {
    const stage = str(s['stage']);
    const id = str(s['id']);
    if (!stage || !id) continue;
    stages.add(stage);
    units.set(`${stage}.${id}`, str(s['unit']));
  }
  const loops = new Set(entries(at(tree, 'control', 'loops')).flatMap(([, l]) => (str(l['id']) ? [str(l['id']) as string] : [])));
  return { units, stages, loops };
}

export function referenceFindings(tree: unknown): ReferenceFindings {
  const plant = plantOf(tree);
  const errors: RawIssue[] = [];
  const warnings: RawIssue[] = [];
  const err = (path: ConfigPath, message: string): void => void errors.push({ path, message });

  /** A `stage.signal` reference; returns its unit when it exists. */
  const signalRef = (path: ConfigPath, what: string, value: unknown): { unit: string | undefined } | undefined => {
    const key = str(value);
    if (key === undefined) return undefined;
    if (plant.units.has(key)) return { unit: plant.units.get(key) };
    const stage = key.split('.')[0] ?? '';
    err(path, `${what} ${key} is not a configured signal${plant.stages.has(stage) ? '' : ` (stage ${stage} has no signals)`}`);
    return undefined;
  };

  entries(at(tree, 'control', 'loops')).forEach(([i, loop]) => {
    const id = str(loop['id']) ?? `#${i + 1}`;
    const stage = str(loop['stage']);
    const base = ['control', 'loops', i];
    if (stage && !plant.stages.has(stage)) err([...base, 'stage'], `loop ${id} is on stage ${stage}, which has no signals (remove the loop with - { id: ${id}, remove: true })`);
    // the signals the loop's policy cannot run without: missing for good, the loop would only ever fall back
    if (loop['enabled'] !== false && isLoop(id) && (!stage || plant.stages.has(stage))) {
      for (const need of POLICIES[id].requires) {
        const key = `${need.stage}.${need.signal}`;
        if (!plant.units.has(key)) err(base, `loop ${id} needs ${key}, which is not configured (configure it, set enabled: false, or remove the loop with - { id: ${id}, remove: true })`);
      }
    }
    const feedback = signalRef([...base, 'feedback'], `loop ${id}: feedback`, loop['feedback']);
    const unit = str(loop['unit']);
    if (feedback?.unit && unit && feedback.unit !== unit) err([...base, 'feedback'], `loop ${id}: feedback ${String(loop['feedback'])} is in ${feedback.unit}, the loop in ${unit}`);
  });

  entries(at(tree, 'alarms', 'limits')).forEach(([i, limit]) => {
    const stage = str(limit['stage']);
    const signal = str(limit['signal']);
    const base = ['alarms', 'limits', i];
    if (stage && signal && !plant.units.has(`${stage}.${signal}`)) err([...base, 'signal'], `limit on ${stage}/${signal}: no such signal`);
    const { low, high } = limit;
    if (low === undefined && high === undefined) err(base, `limit on ${stage ?? '?'}/${signal ?? '?'} sets neither low nor high`);
    if (typeof low === 'number' && typeof high === 'number' && low >= high) err([...base, 'high'], `limit on ${stage ?? '?'}/${signal ?? '?'}: high must be greater than low`);
  });

  entries(at(tree, 'ingest', 'sparkplug', 'metrics')).forEach(([i, m]) => {
    const stage = str(m['stage']);
    const signal = str(m['signal']);
    if (stage && signal && !plant.units.has(`${stage}.${signal}`)) err(['ingest', 'sparkplug', 'metrics', i, 'signal'], `Sparkplug metric ${String(m['metric'])} maps to ${stage}/${signal}: no such signal`);
  });

  sensorCheckReferences(at(tree, 'models', 'sensorChecks'), plant, signalRef, err, warnings);
  errors.push(...tagReferences(tree));
  return { errors, warnings };
}

/** The tag map against the well-formed signals, as soon as the tags section parses on its own. */
const tagsCheck = z
  .object({ tags: tagsSchema.prefault({}), signals: z.array(z.object({ stage: z.string(), id: z.string(), unit: z.string() })) })
  .superRefine((c, ctx) => checkTags(c.tags, c.signals, ctx));

function tagReferences(tree: unknown): RawIssue[] {
  const signals = entries(at(tree, 'signals')).flatMap(([, s]) => {
    const [stage, id, unit] = [str(s['stage']), str(s['id']), str(s['unit'])];
    return stage && id && unit ? [{ stage, id, unit }] : [];
  });
  const result = tagsCheck.safeParse({ tags: at(tree, 'tags'), signals });
  if (result.success) return [];
  // the schema reports the tags section's own problems too: only the cross-checks are new here
  return result.error.issues.filter((i) => i.code === 'custom' && i.path[0] === 'tags').map((i) => ({ path: i.path.filter((p): p is string | number => typeof p !== 'symbol'), message: i.message }));
}

type SignalRef = (path: ConfigPath, what: string, value: unknown) => { unit: string | undefined } | undefined;

function sensorCheckReferences(checks: unknown, plant: Plant, signalRef: SignalRef, err: (path: ConfigPath, message: string) => void, warnings: RawIssue[]): void {
  const base = ['models', 'sensorChecks'];
  const list = (key: string): [number, Tree][] => entries(at(checks, key));
  const refs = (path: ConfigPath, what: string, value: unknown): ({ unit: string | undefined } | undefined)[] =>
    Array.isArray(value) ? value.map((v, j) => signalRef([...path, j], what, v)) : [];

  list('flowBalances').forEach(([i, b]) => {
    const here = [...base, 'flowBalances', i];
    const id = str(b['id']) ?? `#${i + 1}`;
    const units = [...refs([...here, 'inflow'], `flow balance ${id}: inflow`, b['inflow']), ...refs([...here, 'outflow'], `flow balance ${id}: outflow`, b['outflow'])]
      .flatMap((r) => (r?.unit ? [r.unit] : []));
    if (new Set(units).size > 1) err(here, `flow balance ${id} mixes units (${[...new Set(units)].join(', ')}): its flows must share one`);
  });
  list('speciesSums').forEach(([i, s]) => {
    const here = [...base, 'speciesSums', i];
    const id = str(s['id']) ?? `#${i + 1}`;
    refs([...here, 'parts'], `species sum ${id}: part`, s['parts']);
    signalRef([...here, 'total'], `species sum ${id}: total`, s['total']);
  });
  list('loopDeviations').forEach(([i, d]) => {
    const here = [...base, 'loopDeviations', i];
    const loop = str(d['loop']);
    if (loop && !plant.loops.has(loop)) err([...here, 'loop'], `loop deviation on loop ${loop}, which is not configured in control.loops`);
    signalRef([...here, 'signal'], `loop deviation ${loop ?? ''}: signal`, d['signal']);
    signalRef([...here, 'actuator'], `loop deviation ${loop ?? ''}: actuator`, d['actuator']);
  });
  list('levelShifts').forEach(([i, l]) => {
    const here = [...base, 'levelShifts', i];
    const id = str(l['id']) ?? `#${i + 1}`;
    for (const key of ['signal', 'per', 'load']) signalRef([...here, key], `level shift ${id}: ${key}`, l[key]);
  });
  const bands = at(checks, 'bands');
  if (isTree(bands)) for (const key of Object.keys(bands)) signalRef([...base, 'bands', key], 'band for', key);
  const actuated = at(checks, 'actuated');
  if (Array.isArray(actuated)) {
    actuated.forEach((key, j) => {
      // an exemption on a stage the plant does not have is moot; on a stage it has, likely a typo
      if (typeof key === 'string' && !plant.units.has(key) && plant.stages.has(key.split('.')[0] ?? '')) warnings.push({ path: [...base, 'actuated', j], message: `${key} is not a configured signal, the exemption is ignored` });
    });
  }
}
