import type * as TfModule from '@tensorflow/tfjs';
import type { LoadedTf } from '../training/tf.js';
import { exportDenseWeights, type DenseNetSpec } from '../training/models.js';
import type { Scaler } from '../training/scaler.js';
import { writeBundle, type Bundle } from './bundle.js';
import type { ManifestDraft } from './manifest.js';
import { tfjsReference, verifyOnnx, VERIFY_TOLERANCE } from './verify.js';
import { AUTOENCODER_OUTPUTS, GRAPH_INPUT, ONNX_OPSET, buildDenseOnnx } from './writer.js';

/** Manifest fields the caller knows; the exporter adds graph, scaler, backend and verification facts. */
export type ExportManifestFields = Omit<ManifestDraft, 'graphInput' | 'outputs' | 'scaler' | 'outputScaler' | 'tfjsBackend' | 'verification' | 'opset' | 'createdAt'> & {
  readonly createdAt?: string;
};

export interface ExportDenseOptions {
  readonly loaded: LoadedTf;
  readonly model: TfModule.Sequential;
  readonly spec: DenseNetSpec;
  readonly inputScaler: Scaler;
  /** Predictors only. */
  readonly outputScaler?: Scaler;
  /** Raw held-out rows the gate runs through both TensorFlow.js and onnxruntime-node. */
  readonly verificationRows: readonly (readonly number[])[];
  readonly manifest: ExportManifestFields;
  readonly replace?: boolean;
  readonly tolerance?: number;
}

export interface ExportedGraph {
  readonly onnx: Uint8Array;
  readonly maxAbsDiff: number;
}

/** Builds the ONNX graph and runs the verification gate; throws VerificationError when it fails. */
export async function exportVerifiedOnnx(options: Omit<ExportDenseOptions, 'manifest' | 'replace'> & { readonly name: string; readonly graphKind: 'autoencoder' | 'predictor' }): Promise<ExportedGraph> {
  const layers = exportDenseWeights(options.model, options.spec);
  const onnx = buildDenseOnnx({ kind: options.graphKind, name: options.name, layers, inputScaler: options.inputScaler, outputScaler: options.outputScaler });
  const expected = tfjsReference(options.loaded.tf, options.model, options.graphKind, options.inputScaler, options.outputScaler, options.verificationRows);
  const columnScales: Record<string, readonly number[]> = { reconstruction: options.inputScaler.scale };
  if (options.outputScaler) columnScales['prediction'] = options.outputScaler.scale;
  const maxAbsDiff = await verifyOnnx(onnx, options.verificationRows, expected, options.tolerance ?? VERIFY_TOLERANCE, columnScales);
  return { onnx, maxAbsDiff };
}

/** The full manifest draft for a verified dense graph. */
export function denseManifestDraft(options: Omit<ExportDenseOptions, 'model' | 'replace' | 'tolerance'> & { readonly tolerance?: number }, maxAbsDiff: number): ManifestDraft {
  const graphKind = options.manifest.kind === 'predictor' ? 'predictor' : 'autoencoder';
  const width = options.spec.inputSize;
  const outWidth = options.spec.layers[options.spec.layers.length - 1]?.units ?? 0;
  const outputs =
    graphKind === 'autoencoder'
      ? AUTOENCODER_OUTPUTS.map((name) => ({
          name,
          dims: name === 'score' ? ['batch'] : ['batch', width],
          description:
            name === 'score'
              ? 'sum of squared scaled reconstruction errors'
              : name === 'squared_error'
                ? 'per-input squared scaled reconstruction error (contributors)'
                : name === 'reconstruction'
                  ? 'reconstruction in engineering units'
                  : 'inputs after the folded scaler (standard scores)',
        }))
      : [{ name: 'prediction', dims: ['batch', outWidth], description: 'targets in engineering units' }];
  return {
    ...options.manifest,
    createdAt: options.manifest.createdAt ?? new Date().toISOString(),
    graphInput: GRAPH_INPUT,
    outputs,
    scaler: options.inputScaler,
    ...(options.outputScaler ? { outputScaler: options.outputScaler } : {}),
    tfjsBackend: options.loaded.backend,
    verification: { maxAbsDiff, tolerance: options.tolerance ?? VERIFY_TOLERANCE, rows: options.verificationRows.length, runtime: 'onnxruntime-node' },
    opset: ONNX_OPSET,
  };
}

/** Train-side end of the pipeline: ONNX graph, verification gate, then an atomically written bundle. */
export async function exportDenseBundle(dir: string, options: ExportDenseOptions): Promise<Bundle> {
  const graphKind = options.manifest.kind === 'predictor' ? 'predictor' : 'autoencoder';
  const { onnx, maxAbsDiff } = await exportVerifiedOnnx({ ...options, name: options.manifest.name, graphKind });
  return writeBundle(dir, denseManifestDraft(options, maxAbsDiff), onnx, { replace: options.replace ?? false });
}
