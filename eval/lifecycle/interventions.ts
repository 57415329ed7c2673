/**
 * What the lifecycle evaluation does to the daemon from the outside while the twin runs, as an integrator
 * would: a deliberately broken candidate handed over with `wwtp-edge models shadow --from-store` (its gate
 * must refuse it), and a version with a fault built in, run in shadow and promoted, which a replaced
 * analyzer then makes go wrong (the daemon must roll it back).
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readBundle, writeBundle } from '../../src/onnx/bundle.js';
import { inputLabel } from '../../src/onnx/manifest.js';
import { runOnnx } from '../../src/onnx/verify.js';
import { buildDenseOnnx } from '../../src/onnx/writer.js';
import { writeReference } from '../../src/inference/reference.js';
import { runCli } from '../../test/helpers/aeration-history.js';

export interface CliRun {
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `wwtp-edge ARGS` as a user runs it, at low priority beside the daemon. */
export async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return { args, ...(await runCli(args, env, 10)) };
}

/**
 * The store's readings up to now as a readings CSV, with the aerobic NH4 and NO3 analyzers' tags swapped:
 * a history mis-mapped at import, the commonest way a model learns the wrong plant.
 */
export function swappedTagsCsv(store: string, file: string): number {
  const db = new Database(store, { readonly: true });
  try {
    const rows = db.prepare("SELECT ts, stage, signal, value FROM readings WHERE quality != 'bad' ORDER BY ts").all() as { ts: number; stage: string; signal: string; value: number }[];
    const swap: Record<string, string> = { nh4_n: 'no3_n', no3_n: 'nh4_n' };
    const lines = rows.map((r) => `${r.ts},${r.stage},${r.stage === 'aerobic' ? (swap[r.signal] ?? r.signal) : r.signal},${r.value}`);
    writeFileSync(file, `ts,stage,signal,value\n${lines.join('\n')}\n`);
    return rows.length;
  } finally {
    db.close();
  }
}

/** Trains predictors on the swapped history and keeps `name`'s bundle as a candidate; returns its version. */
export async function trainBroken(store: string, work: string, modelsDir: string, name: string): Promise<{ version: string; run: CliRun }> {
  const csv = join(work, 'swapped.csv');
  swappedTagsCsv(store, csv);
  const out = join(work, 'broken');
  rmSync(out, { recursive: true, force: true });
  const run = await cli(['train', 'predictors', '--data', csv, '--out', out]);
  const version = readdirSync(join(out, name))[0] ?? '';
  const dest = join(modelsDir, 'candidates', name, `broken-${version}`);
  // the folder is the version: the manifest is rewritten through writeBundle below, so its checksum stays true
  const bundle = await readBundle(join(out, name, version));
  mkdirSync(join(modelsDir, 'candidates', name), { recursive: true });
  const { onnx: file, schemaVersion: _schema, ...draft } = bundle.manifest;
  await writeBundle(dest, { ...draft, version: `broken-${version}`, opset: file.opset }, bundle.onnx, { replace: true });
  cpSync(join(out, name, version, 'reference.json'), join(dest, 'reference.json'));
  return { version: `broken-${version}`, run };
}

/**
 * A copy of a linear predictor bundle (the ridge predictors are one dense layer) with a fault built in:
 * outputs equal to the original's while `input` stays at or below `knee`, then `gain` per unit above it
 * on every target. Its weights are read back from the original through onnxruntime (its response to each
 * input around the scaler's centre), laid out as relu(f) - relu(-f) + gain * relu(x - knee).
 */
export async function writeTrap(sourceDir: string, destDir: string, version: string, input: string, knee: number, gain: number): Promise<void> {
  const { manifest, onnx } = await readBundle(sourceDir);
  const at = manifest.inputs.map(inputLabel).indexOf(input);
  if (at < 0) throw new Error(`${sourceDir} has no input ${input}`);
  const center = manifest.scaler.center;
  const scale = manifest.scaler.scale;
  const d = center.length;
  const probes = [center, ...center.map((_, i) => center.map((c, j) => (j === i ? c + (scale[i] ?? 1) : c)))];
  const out = (await runOnnx(onnx, probes))['prediction'] ?? new Float32Array();
  const k = out.length / probes.length;
  const f0 = Array.from(out.subarray(0, k));
  // layer 1: units j = relu(f_j), k + j = relu(-f_j), 2k = relu(z_input - kneeZ)
  const units = 2 * k + 1;
  const kernel1 = new Float32Array(d * units);
  const bias1 = new Float32Array(units);
  for (let j = 0; j < k; j += 1) {
    bias1[j] = f0[j] ?? 0;
    bias1[k + j] = -(f0[j] ?? 0);
    for (let i = 0; i < d; i += 1) {
      const w = (out[(i + 1) * k + j] ?? 0) - (f0[j] ?? 0);
      kernel1[i * units + j] = w;
      kernel1[i * units + k + j] = -w;
    }
  }
  kernel1[at * units + 2 * k] = 1;
  bias1[2 * k] = -(knee - (center[at] ?? 0)) / (scale[at] ?? 1);
  // layer 2: out_j = unit_j - unit_{k+j} + gain * scale * unit_2k
  const kernel2 = new Float32Array(units * k);
  for (let j = 0; j < k; j += 1) {
    kernel2[j * k + j] = 1;
    kernel2[(k + j) * k + j] = -1;
    kernel2[2 * k * k + j] = gain * (scale[at] ?? 1);
  }
  const identity = { kind: 'standard' as const, center: Array<number>(k).fill(0), scale: Array<number>(k).fill(1) };
  const inputScaler = { kind: 'standard' as const, center: [...center], scale: [...scale] };
  const layers = [
    { inputs: d, units, activation: 'relu' as const, kernel: kernel1, bias: bias1 },
    { inputs: units, units: k, activation: 'linear' as const, kernel: kernel2, bias: new Float32Array(k) },
  ];
  const graph = buildDenseOnnx({ kind: 'predictor', name: manifest.name, layers, inputScaler, outputScaler: identity });
  const rows = [center, ...probes.slice(1, 4)].map((r) => [...r]);
  const outputs = await runOnnx(graph, rows);
  const { onnx: file, schemaVersion: _schema, ...draft } = manifest;
  rmSync(destDir, { recursive: true, force: true });
  const bundle = await writeBundle(destDir, {
    ...draft,
    version,
    scaler: inputScaler,
    outputScaler: identity,
    training: { ...manifest.training, source: `${manifest.name}@${manifest.version} with a fault built in: +${gain} per unit of ${input} above ${knee.toFixed(2)} on every target`, layers: layers.map((l) => ({ units: l.units, activation: l.activation })) },
    createdAt: new Date().toISOString(),
    opset: file.opset,
  }, graph);
  await writeReference(bundle.dir, { inputs: rows, outputs: { prediction: Array.from(outputs['prediction'] ?? []) }, columnScales: { prediction: Array<number>(k).fill(1) }, tolerance: 1e-3, producedBy: 'onnxruntime-node' });
}

/** The highest usable reading of a signal in the store so far (the trap's knee sits above it). */
export function storedMax(store: string, stage: string, signal: string): number {
  const db = new Database(store, { readonly: true });
  try {
    return (db.prepare("SELECT MAX(value) AS v FROM readings WHERE stage = ? AND signal = ? AND quality != 'bad'").get(stage, signal) as { v: number | null }).v ?? Number.NaN;
  } finally {
    db.close();
  }
}

/** The median usable reading of a signal in the store between two times (ms), or NaN. */
export function storedMedian(store: string, stage: string, signal: string, from: number, to: number): number {
  const db = new Database(store, { readonly: true });
  try {
    const values = (db.prepare("SELECT value FROM readings WHERE stage = ? AND signal = ? AND ts >= ? AND ts < ? AND quality != 'bad' ORDER BY value").all(stage, signal, from, to) as { value: number }[]).map((r) => r.value);
    return values.length === 0 ? Number.NaN : (values[Math.floor(values.length / 2)] ?? Number.NaN);
  } finally {
    db.close();
  }
}
