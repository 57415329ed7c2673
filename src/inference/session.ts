import * as ort from 'onnxruntime-node';
import { readBundle, type Manifest } from '../onnx/bundle.js';
import { GRAPH_INPUT } from '../onnx/writer.js';
import { isStage, type StageId } from '../contract/plant.js';
import { ModelError } from './errors.js';
import { parsePlantInput, type PlantInput } from './features.js';
import { readReference, referenceDiff } from './reference.js';

export type GraphOutputs = Record<string, Float32Array>;

/** A bundle that passed the gate, with its own onnxruntime session. */
export interface LoadedModel {
  readonly name: string;
  readonly version: string;
  /** `name@version`, as rows and messages name the model. */
  readonly id: string;
  readonly dir: string;
  readonly manifest: Manifest;
  readonly kind: 'autoencoder' | 'predictor';
  readonly inputs: readonly PlantInput[];
  readonly targets: readonly PlantInput[];
  /** Autoencoders: the stage they watch. */
  readonly stage: StageId | undefined;
  readonly session: ort.InferenceSession;
  /** Gate result: largest difference to the stored reference outputs. */
  readonly referenceDiff: number;
  /** Operating bands learned in training (sensor checks), key `stage.signal`. */
  readonly bands: Readonly<Record<string, { min: number; max: number }>>;
}

export interface SessionOptions {
  readonly intraOpThreads: number;
}

function plantInputs(manifest: Manifest, list: Manifest['inputs'] | undefined, what: string): PlantInput[] {
  return (list ?? []).map((input) => {
    const parsed = parsePlantInput(input);
    if (!parsed) throw new ModelError('MODEL_INPUTS_UNSUPPORTED', `${manifest.name}@${manifest.version}: ${what} ${JSON.stringify(input)} is not a window feature`, 2);
    return parsed;
  });
}

function watchedStage(manifest: Manifest, inputs: readonly PlantInput[]): StageId | undefined {
  const suffix = manifest.name.split('-').pop() ?? '';
  if (isStage(suffix)) return suffix;
  const stages = new Set(inputs.map((i) => i.stage));
  return stages.size === 1 ? inputs[0]?.stage : undefined;
}

/** One row through a session; every graph output, flattened. */
export async function runSession(session: ort.InferenceSession, rows: Float32Array, width: number): Promise<GraphOutputs> {
  const result = await session.run({ [GRAPH_INPUT]: new ort.Tensor('float32', rows, [rows.length / width, width]) });
  const out: GraphOutputs = {};
  for (const name of session.outputNames) {
    const tensor = result[name];
    if (tensor) out[name] = tensor.data as Float32Array;
  }
  return out;
}

/**
 * The activation gate: the bundle's sha256 (readBundle), a supported input layout, and a test inference
 * on the stored reference inputs that must reproduce the stored reference outputs. Nothing that fails
 * the gate keeps a session.
 */
export async function loadVerifiedModel(dir: string, options: SessionOptions): Promise<LoadedModel> {
  const bundle = await readBundle(dir);
  const { manifest } = bundle;
  const id = `${manifest.name}@${manifest.version}`;
  if (manifest.kind === 'detector') throw new ModelError('MODEL_INPUTS_UNSUPPORTED', `${id}: offline detectors are not plant models`, 2);
  const inputs = plantInputs(manifest, manifest.inputs, 'input');
  const targets = plantInputs(manifest, manifest.targets, 'target');
  if (manifest.kind === 'predictor' && targets.length === 0) throw new ModelError('MODEL_INPUTS_UNSUPPORTED', `${id}: a predictor needs targets`, 2);
  const reference = await readReference(bundle.dir);
  if (!reference) throw new ModelError('MODEL_GATE_FAILED', `${id}: no valid reference.json in ${bundle.dir}`);
  if (reference.inputs.some((row) => row.length !== inputs.length)) throw new ModelError('MODEL_GATE_FAILED', `${id}: reference rows do not have ${inputs.length} columns`);
  const session = await ort.InferenceSession.create(bundle.onnx, {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const flat = Float32Array.from(reference.inputs.flat());
    const actual = await runSession(session, flat, inputs.length);
    const diff = referenceDiff(reference, actual);
    if (!(diff <= reference.tolerance)) {
      throw new ModelError('MODEL_GATE_FAILED', `${id}: reference outputs differ by ${diff.toExponential(3)} (limit ${reference.tolerance.toExponential(0)})`);
    }
    return {
      name: manifest.name,
      version: manifest.version,
      id,
      dir: bundle.dir,
      manifest,
      kind: manifest.kind,
      inputs,
      targets,
      stage: manifest.kind === 'autoencoder' ? watchedStage(manifest, inputs) : undefined,
      session,
      referenceDiff: diff,
      bands: reference.bands ?? {},
    };
  } catch (error) {
    await session.release();
    throw error;
  }
}
