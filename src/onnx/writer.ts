import onnxProto from 'onnx-proto';
import type { DenseLayerWeights } from '../training/models.js';
import type { Scaler } from '../training/scaler.js';

const { onnx } = onnxProto;

export const ONNX_OPSET = 13;

/** Output names the daemon reads; fixed so every bundle of one kind has the same graph interface. */
export const AUTOENCODER_OUTPUTS = ['score', 'squared_error', 'reconstruction', 'standardized'] as const;
export const PREDICTOR_OUTPUTS = ['prediction'] as const;
export const GRAPH_INPUT = 'input';

export interface DenseGraph {
  readonly kind: 'autoencoder' | 'predictor';
  readonly name: string;
  readonly layers: readonly DenseLayerWeights[];
  /** Folded into the graph so the model takes raw engineering units. */
  readonly inputScaler: Scaler;
  /** Predictors only: maps the network's scaled output back to engineering units. */
  readonly outputScaler?: Scaler | undefined;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

type Node = InstanceType<typeof onnx.NodeProto>;
type Tensor = InstanceType<typeof onnx.TensorProto>;

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): Tensor {
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(values) });
}

function node(opType: string, inputs: string[], outputs: string[], attributes: InstanceType<typeof onnx.AttributeProto>[] = []): Node {
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name: outputs[0] ?? opType, attribute: attributes });
}

function intAttribute(name: string, value: number): InstanceType<typeof onnx.AttributeProto> {
  return onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
}

function valueInfo(name: string, dims: readonly (number | string)[]): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

const activationOp: Record<DenseLayerWeights['activation'], string | undefined> = {
  relu: 'Relu',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  linear: undefined,
};

/**
 * Builds a float32 ONNX model (opset 13): scaler as Sub/Div, each Dense layer as Gemm plus its
 * activation. Autoencoders also emit the per-input squared reconstruction error (the contributors)
 * and its row sum (the anomaly score), so consumers need no post-processing to explain a score.
 */
export function buildDenseOnnx(graph: DenseGraph): Uint8Array {
  const first = graph.layers[0];
  const last = graph.layers[graph.layers.length - 1];
  if (!first || !last) throw new Error('a dense graph needs at least one layer');
  const width = first.inputs;
  if (graph.inputScaler.center.length !== width) throw new Error(`input scaler has ${graph.inputScaler.center.length} columns, the network ${width}`);
  const nodes: Node[] = [];
  const initializers: Tensor[] = [
    floatTensor('input_center', [width], graph.inputScaler.center),
    floatTensor('input_scale', [width], graph.inputScaler.scale),
  ];
  nodes.push(node('Sub', [GRAPH_INPUT, 'input_center'], ['input_centered']));
  nodes.push(node('Div', ['input_centered', 'input_scale'], ['input_scaled']));
  let current = 'input_scaled';
  graph.layers.forEach((layer, i) => {
    initializers.push(floatTensor(`dense${i}_kernel`, [layer.inputs, layer.units], layer.kernel));
    initializers.push(floatTensor(`dense${i}_bias`, [layer.units], layer.bias));
    nodes.push(node('Gemm', [current, `dense${i}_kernel`, `dense${i}_bias`], [`dense${i}_linear`]));
    current = `dense${i}_linear`;
    const op = activationOp[layer.activation];
    if (op) {
      nodes.push(node(op, [current], [`dense${i}_out`]));
      current = `dense${i}_out`;
    }
  });
  const outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  if (graph.kind === 'autoencoder') {
    if (last.units !== width) throw new Error(`autoencoder output width ${last.units} differs from input width ${width}`);
    initializers.push(onnx.TensorProto.create({ name: 'sum_axes', dims: [1], dataType: onnx.TensorProto.DataType.INT64, int64Data: [1] }));
    nodes.push(node('Sub', [current, 'input_scaled'], ['residual']));
    nodes.push(node('Mul', ['residual', 'residual'], ['squared_error']));
    nodes.push(node('ReduceSum', ['squared_error', 'sum_axes'], ['score'], [intAttribute('keepdims', 0)]));
    nodes.push(node('Mul', [current, 'input_scale'], ['reconstruction_scaled']));
    nodes.push(node('Add', ['reconstruction_scaled', 'input_center'], ['reconstruction']));
    // the scaled inputs themselves: a diagonal standard score beside the learned residual, no second graph
    nodes.push(node('Identity', ['input_scaled'], ['standardized']));
    outputs.push(valueInfo('score', ['batch']), valueInfo('squared_error', ['batch', width]), valueInfo('reconstruction', ['batch', width]), valueInfo('standardized', ['batch', width]));
  } else {
    const scaler = graph.outputScaler;
    if (!scaler || scaler.center.length !== last.units) throw new Error(`predictor needs an output scaler with ${last.units} columns`);
    initializers.push(floatTensor('output_center', [last.units], scaler.center), floatTensor('output_scale', [last.units], scaler.scale));
    nodes.push(node('Mul', [current, 'output_scale'], ['prediction_scaled']));
    nodes.push(node('Add', ['prediction_scaled', 'output_center'], ['prediction']));
    outputs.push(valueInfo('prediction', ['batch', last.units]));
  }
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'wwtp-edge',
    producerVersion: '1',
    docString: graph.docString ?? '',
    metadataProps: Object.entries(graph.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: [valueInfo(GRAPH_INPUT, ['batch', width])],
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
