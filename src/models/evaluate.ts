import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EdgeConfig } from '../config/schema.js';
import type { PlantWindow } from '../contract/ports.js';
import { EdgeError } from '../lib/lifecycle.js';
import { buildInputVector, windowHistory } from '../inference/features.js';
import { slideOf } from './dataset.js';
import { scanBundles } from '../inference/registry-file.js';
import { loadVerifiedModel, runSession, type LoadedModel } from '../inference/session.js';
import { MANIFEST_FILE } from '../onnx/manifest.js';
import { OnlineDetector, manifestScoring } from '../anomaly/online.js';
import { addSample, emptySums, eventFigures, figuresOf, flagEpisodes, type EventFigures, type SkillFigures, type SkillSums } from './metrics.js';
import { judgedAlarms, storeReadings, windowReadings } from './store-data.js';

/** One predictor target at one horizon, on the evaluated block. */
export interface TargetEvaluation extends SkillFigures {
  readonly model: string;
  readonly stage: string;
  readonly signal: string;
  readonly horizonMin: number;
  /** MSE of persistence (the value at the input window) over the same samples. */
  readonly msePersistence: number;
}

export interface DetectorEvaluation {
  readonly model: string;
  readonly stage: string;
  /** Windows scored (all inputs there) and windows flagged (score or one input's error beyond its limit, for the bundle's persistence). */
  readonly windows: number;
  readonly flagged: number;
  readonly flaggedShare: number;
  /** Flag episodes (consecutive flagged windows, what raises one alarm) per day of the block. */
  readonly flagsPerDay: number;
  readonly days: number;
  /** Against the stage's alarm events an operator confirmed; absent when no alarm of the stage has a verdict in the block. */
  readonly events?: EventFigures;
}

export interface Evaluation {
  readonly since: string;
  readonly until: string;
  readonly windows: number;
  readonly predictors: TargetEvaluation[];
  readonly detectors: DetectorEvaluation[];
  /** Models that could not be judged on the block, and why. */
  readonly skipped: { model: string; why: string }[];
}

export interface EvaluateOptions {
  readonly config: Pick<EdgeConfig, 'windows' | 'signals'>;
  readonly store: string;
  readonly since: number;
  readonly until?: number | undefined;
  readonly onProgress?: (done: number, total: number) => void;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const BATCH = 1024;

/** A bundle folder, a models folder (every name's newest version) or NAME@VERSION in `modelsDir`. */
export async function resolveBundles(ref: string, modelsDir: string): Promise<string[]> {
  if (existsSync(join(ref, MANIFEST_FILE))) return [ref];
  if (existsSync(ref)) {
    const newest = new Map<string, string>();
    for (const b of await scanBundles(ref)) newest.set(b.name, b.dir);
    if (newest.size === 0) throw new EdgeError('MODEL_NOT_FOUND', `no model bundles in ${ref}`, 2);
    return [...newest.values()];
  }
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1) throw new EdgeError('MODEL_BAD_REF', `"${ref}" is neither a folder nor NAME@VERSION`, 2);
  const dir = join(modelsDir, ref.slice(0, at), ref.slice(at + 1));
  if (!existsSync(join(dir, MANIFEST_FILE))) throw new EdgeError('MODEL_NOT_FOUND', `no bundle ${ref} in ${modelsDir}`, 2);
  return [dir];
}

async function run(model: LoadedModel, rows: readonly Float32Array[]): Promise<Record<string, Float32Array>[]> {
  const width = model.inputs.length;
  const out: Record<string, Float32Array>[] = [];
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    const flat = new Float32Array(chunk.length * width);
    chunk.forEach((r, k) => flat.set(r, k * width));
    const result = await runSession(model.session, flat, width);
    chunk.forEach((_, k) => {
      const row: Record<string, Float32Array> = {};
      for (const [name, data] of Object.entries(result)) {
        const per = data.length / chunk.length;
        row[name] = data.subarray(k * per, (k + 1) * per);
      }
      out.push(row);
    });
  }
  return out;
}

function inputRows(model: LoadedModel, windows: readonly PlantWindow[], byEnd?: ReadonlyMap<number, PlantWindow>): { rows: Float32Array[]; windows: PlantWindow[] } {
  const slideMs = slideOf(windows);
  const rows: Float32Array[] = [];
  const kept: PlantWindow[] = [];
  for (const w of windows) {
    const v = buildInputVector(w, model.inputs, byEnd ? windowHistory(byEnd, slideMs) : undefined);
    if (v.ok) {
      rows.push(v.values);
      kept.push(w);
    }
  }
  return { rows, windows: kept };
}

async function evaluatePredictor(model: LoadedModel, windows: readonly PlantWindow[], byEnd: ReadonlyMap<number, PlantWindow>): Promise<TargetEvaluation[]> {
  const { rows, windows: used } = inputRows(model, windows, byEnd);
  const outputs = await run(model, rows);
  const sums: SkillSums[] = model.targets.map(() => emptySums());
  used.forEach((w, i) => {
    const prediction = outputs[i]?.['prediction'];
    model.targets.forEach((t, j) => {
      const now = { ...t, horizonMin: 0 };
      const later = byEnd.get(w.end + t.horizonMin * 60_000);
      const measured = later ? buildInputVector(later, [now]) : undefined;
      const persistence = buildInputVector(w, [now]);
      if (!measured?.ok || !persistence.ok || prediction === undefined) return;
      addSample(sums[j] ?? emptySums(), prediction[j] ?? Number.NaN, measured.values[0] ?? Number.NaN, persistence.values[0] ?? Number.NaN);
    });
  });
  return model.targets.map((t, j) => {
    const s = sums[j] ?? emptySums();
    const f = figuresOf([s]);
    return { model: model.id, stage: t.stage, signal: t.signal, horizonMin: t.horizonMin, ...f, msePersistence: s.n > 0 ? s.sumPersistErr2 / s.n : Number.NaN };
  });
}

async function evaluateDetector(model: LoadedModel, windows: readonly PlantWindow[], slideMs: number, store: string, span: { since: number; until: number }): Promise<DetectorEvaluation> {
  const { rows, windows: used } = inputRows(model, windows);
  // As the daemon does: each window with complete inputs through the stage detector's own scoring, in time order.
  const detector = new OnlineDetector(manifestScoring(model.manifest));
  const width = model.inputs.length;
  const flags: { ts: number; flagged: boolean }[] = [];
  for (const [i, w] of used.entries()) {
    const verdict = await detector.next(rows[i] ?? new Float32Array(width), async (input) => {
      const out = await runSession(model.session, input, width);
      return { squaredError: out['squared_error'] ?? new Float32Array(width), standardized: out['standardized'] };
    });
    flags.push({ ts: w.end, flagged: verdict.flag });
  }
  const flagged = flags.filter((f) => f.flagged).length;
  const first = windows[0]?.end ?? span.since;
  const last = windows[windows.length - 1]?.end ?? span.since;
  const days = (last - first + slideMs) / 86_400_000;
  const episodes = flagEpisodes(flags, slideMs);
  const judged = judgedAlarms(store, span).filter((a) => a.stage === model.stage);
  const events = judged.filter((a) => a.verdict === 'confirmed').map((a) => ({ start: a.start, end: Math.min(a.end, span.until) }));
  return {
    model: model.id, stage: model.stage ?? '', windows: used.length, flagged, flaggedShare: used.length > 0 ? flagged / used.length : Number.NaN,
    flagsPerDay: days > 0 ? episodes.length / days : Number.NaN, days,
    ...(judged.length > 0 ? { events: eventFigures(episodes, events, slideMs) } : {}),
  };
}

/**
 * `models evaluate`: bundles run over the store's readings of [since, until), windowed by the daemon's
 * own windower, every input row as inference builds it; predictions compared with what the plant
 * measured a horizon later and with persistence; detectors' flags counted and set against the alarm
 * events operators judged.
 */
export async function evaluateModels(dirs: readonly string[], opts: EvaluateOptions): Promise<Evaluation> {
  const models: LoadedModel[] = [];
  const skipped: { model: string; why: string }[] = [];
  try {
    for (const dir of dirs) {
      try {
        models.push(await loadVerifiedModel(dir, { intraOpThreads: 1 }));
      } catch (error) {
        skipped.push({ model: dir, why: error instanceof Error ? error.message : String(error) });
      }
    }
    if (models.length === 0) throw new EdgeError('MODEL_NOT_FOUND', `no bundle could be loaded: ${skipped.map((s) => s.why).join('; ')}`, 2);
    const sizeMs = opts.config.windows.sizeSec * 1000;
    const slideMs = opts.config.windows.slideSec * 1000;
    const maxHorizonMs = Math.max(0, ...models.flatMap((m) => m.targets.map((t) => t.horizonMin * 60_000)));
    const until = opts.until ?? Number.MAX_SAFE_INTEGER;
    // The windows before `since` fill (staleness, gaps); targets of the last windows lie up to a horizon after `until`.
    // Lagged inputs (recent history) reach further back than `since`: those windows are read too, never judged.
    const maxLagMs = Math.max(0, ...models.flatMap((m) => m.inputs.map((i) => i.lagMin * 60_000)));
    const readFrom = opts.since - sizeMs - 3_600_000 - maxLagMs;
    const readTo = until === Number.MAX_SAFE_INTEGER ? undefined : until + maxHorizonMs + sizeMs;
    const all = windowReadings(opts.config, storeReadings(opts.store, { since: readFrom, until: readTo }));
    // Windows wholly inside the block: none of their readings is older than `since` (a model trained with --until since never saw them).
    const windows = all.filter((w) => w.start >= opts.since && w.end <= until);
    if (windows.length === 0) throw new EdgeError('EVALUATE_NO_DATA', `the store ${opts.store} has no windows from ${iso(opts.since)}${opts.until !== undefined ? ` to ${iso(opts.until)}` : ''}`, 2);
    const byEnd = new Map(all.map((w) => [w.end, w]));
    const span = { since: opts.since, until: opts.until ?? (windows[windows.length - 1]?.end ?? opts.since) + slideMs };
    const predictors: TargetEvaluation[] = [];
    const detectors: DetectorEvaluation[] = [];
    for (const [i, model] of models.entries()) {
      opts.onProgress?.(i, models.length);
      if (model.kind === 'predictor') predictors.push(...await evaluatePredictor(model, windows, byEnd));
      else detectors.push(await evaluateDetector(model, windows, slideMs, opts.store, span));
    }
    opts.onProgress?.(models.length, models.length);
    return { since: iso(span.since), until: iso(span.until), windows: windows.length, predictors, detectors, skipped };
  } finally {
    for (const m of models) await m.session.release();
  }
}

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** Rows of cells as columns padded to their widest cell. */
function table(rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]?.map((_, j) => Math.max(...cells.map((r) => r[j]?.length ?? 0))) ?? [];
  return cells.map((r) => r.map((c, j) => c.padEnd(widths[j] ?? 0)).join('  ').trimEnd());
}

/** The human-readable table of an evaluation. */
export function formatEvaluation(e: Evaluation): string {
  const lines = [`evaluated ${e.since} to ${e.until} (${e.windows} windows)`];
  if (e.predictors.length > 0) {
    lines.push('', ...table([
      ['model', 'target', 'horizon', 'n', 'R2', 'MAPE %', 'MAE', 'MSE', 'MSE persistence', 'MSE skill'],
      ...e.predictors.map((p) => [p.model, `${p.stage}.${p.signal}`, `${p.horizonMin} min`, p.n, fmt(p.r2), fmt(p.mape, 1), fmt(p.mae, 4), fmt(p.mse, 4), fmt(p.msePersistence, 4), fmt(p.mseSkill)]),
    ]));
  }
  if (e.detectors.length > 0) {
    lines.push('', ...table([
      ['model', 'stage', 'windows', 'flagged %', 'flags/day', 'confirmed events', 'precision', 'recall', 'delay min'],
      ...e.detectors.map((d) => {
        const ev = d.events;
        return [d.model, d.stage, d.windows, fmt(100 * d.flaggedShare, 2), fmt(d.flagsPerDay, 2), ev ? ev.events : 'no verdicts', ev ? fmt(ev.precision, 2) : '-', ev ? fmt(ev.recall, 2) : '-', ev ? fmt(ev.delayMin, 1) : '-'];
      }),
    ]));
  }
  for (const s of e.skipped) lines.push(`skipped ${s.model}: ${s.why}`);
  return `${lines.join('\n')}\n`;
}
