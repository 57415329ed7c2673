import type * as TfModule from '@tensorflow/tfjs';
import type { Tf } from './tf.js';

export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'linear';

export interface DenseLayerSpec {
  readonly units: number;
  readonly activation: Activation;
}

export interface DenseNetSpec {
  readonly inputSize: number;
  readonly layers: readonly DenseLayerSpec[];
}

/** Trained weights of one Dense layer, row-major kernel [inputs x units]. */
export interface DenseLayerWeights {
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation;
  readonly kernel: Float32Array;
  readonly bias: Float32Array;
}

/** Hourglass autoencoder: widths shrink to the bottleneck and mirror back to the input width. */
export function autoencoderSpec(inputSize: number, hidden: readonly number[], activation: Activation = 'tanh'): DenseNetSpec {
  const encoder = hidden.map((units) => ({ units, activation }));
  const decoder = [...hidden].reverse().slice(1).map((units) => ({ units, activation }));
  return { inputSize, layers: [...encoder, ...decoder, { units: inputSize, activation: 'linear' }] };
}

export function regressorSpec(inputSize: number, hidden: readonly number[], outputs: number, activation: Activation = 'relu'): DenseNetSpec {
  return { inputSize, layers: [...hidden.map((units) => ({ units, activation })), { units: outputs, activation: 'linear' }] };
}

/** Sequential Dense stack with seeded initialisers, so one seed gives one model. */
export function buildDenseNet(tf: Tf, spec: DenseNetSpec, seed: number): TfModule.Sequential {
  const model = tf.sequential();
  spec.layers.forEach((layer, i) => {
    model.add(
      tf.layers.dense({
        units: layer.units,
        activation: layer.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i * 7919 }),
        biasInitializer: 'zeros',
        ...(i === 0 ? { inputShape: [spec.inputSize] } : {}),
      }),
    );
  });
  return model;
}

export function exportDenseWeights(model: TfModule.Sequential, spec: DenseNetSpec): DenseLayerWeights[] {
  return model.layers.map((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    const layerSpec = spec.layers[i];
    if (!kernel || !bias || !layerSpec) throw new Error(`layer ${i} is not a Dense layer with a bias`);
    const [inputs, units] = kernel.shape;
    return {
      inputs: inputs ?? 0,
      units: units ?? 0,
      activation: layerSpec.activation,
      kernel: Float32Array.from(kernel.dataSync()),
      bias: Float32Array.from(bias.dataSync()),
    };
  });
}
