// Layer factories: each validates its options in the wasm core when it is made (a bad
// hyperparameter fails here, not at the first training step) and returns a serializable
// description that `nb.sequential` builds into wasm layers, or `nb.layer` into a layer
// used on its own. The layers' math lives in the core (one Rust file per layer); one
// line each here.

import * as wasm from "../wasm/nabla.js";
import { argError, core, ValueError } from "./errors.js";
import { ready } from "./init.js";
import { describe, type Tensor } from "./tensor.js";

export type Activation =
  | "linear" | "relu" | "gelu" | "geluTanh" | "sigmoid" | "tanh" | "softmax" | "logSoftmax" | "softplus" | "silu"
  | { type: "leakyRelu"; alpha?: number }
  | { type: "elu"; alpha?: number };

export type Initializer =
  | "glorotUniform" | "glorotNormal" | "heUniform" | "heNormal" | "lecunUniform" | "lecunNormal" | "orthogonal" | "zeros" | "ones"
  | { type: "constant"; value: number }
  | { type: "randomNormal"; mean?: number; stddev?: number }
  | { type: "randomUniform"; min?: number; max?: number };

// Type-level only: no value has this key.
declare const outputs: unique symbol;

/**
 * A layer description from `nb.layers`, for `nb.sequential` or `nb.layer`. `Out` is what
 * `nb.layer(spec, ...).apply(x)` returns: a `Tensor`, or with `returnState: true` the
 * output and the final states (e.g. `LstmOutputs`). `nb.sequential` takes only
 * `LayerSpec<Tensor>` (one output per layer), so a returnState spec there is a type error.
 */
export interface LayerSpec<Out extends Tensor | Tensor[] = Tensor> {
  readonly kind: string;
  readonly config: Readonly<Record<string, unknown>>;
  toJSON(): { kind: string; config: Record<string, unknown> };
  /** Never set: carries `Out` in the type. */
  readonly [outputs]?: Out;
}

/** simpleRnn / gru with `returnState: true`: `apply` gives the output and the final h. */
export type RnnOutputs = [output: Tensor, h: Tensor];
/** lstm with `returnState: true`: the output and the final h and c (Keras's order). */
export type LstmOutputs = [output: Tensor, h: Tensor, c: Tensor];
/** bidirectional(lstm) with `returnState: true`: Keras's order, forward copy first. */
export type BidirectionalLstmOutputs = [output: Tensor, forwardH: Tensor, forwardC: Tensor, backwardH: Tensor, backwardC: Tensor];
/** bidirectional(gru | simpleRnn) with `returnState: true`. */
export type BidirectionalRnnOutputs = [output: Tensor, forwardH: Tensor, backwardH: Tensor];

/** The catalogue, one line per layer. A test holds it equal to the core's. */
export const KINDS = [
  "dense", "activation", "dropout", "flatten", "reshape", "batchNorm", "layerNorm", "conv1d", "conv2d",
  "maxPool1d", "maxPool2d", "avgPool1d", "avgPool2d", "globalAvgPool1d", "globalAvgPool2d",
  "embedding", "simpleRnn", "lstm", "gru", "bidirectional",
] as const;

function factory<C extends object, Out extends Tensor | Tensor[] = Tensor>(kind: string) {
  return (config: C = {} as C): LayerSpec<Out> => {
    ready(`layers.${kind}`);
    if (typeof config !== "object" || config === null) {
      throw argError(ValueError, "INVALID_ARGUMENT", kind, "config", "an object of options", describe(config));
    }
    const copy = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
    core(() => wasm.layerCheck(kind, JSON.stringify(copy)));
    return Object.freeze({ kind, config: Object.freeze(copy), toJSON: () => ({ kind, config: { ...copy } }) });
  };
}

/** The names of the layers the core implements (for tests and tools). */
export function coreCatalogue(): string[] {
  ready("layers.coreCatalogue");
  return JSON.parse(wasm.layerCatalogue());
}

type Pair = number | readonly [number, number];
type Padding = "valid" | "same" | number | readonly number[];

/** y = activation(x·W + b) over the last axis; kernel [in, units]. See: keras Dense, torch Linear (weight = kernelᵀ). */
export const dense = factory<{ units: number; activation?: Activation; useBias?: boolean; kernelInitializer?: Initializer; biasInitializer?: Initializer; kernelRegularizer?: { l1?: number; l2?: number } }>("dense");
export const activation = factory<{ activation: Activation }>("activation");
/** Inverted dropout in training, identity at inference; seeded. */
export const dropout = factory<{ rate: number; seed?: number }>("dropout");
export const flatten = factory<Record<string, never>>("flatten");
export const reshape = factory<{ targetShape: number[] }>("reshape");
export const batchNorm = factory<{ axis?: number; momentum?: number; epsilon?: number; center?: boolean; scale?: boolean }>("batchNorm");
export const layerNorm = factory<{ axis?: number; epsilon?: number; center?: boolean; scale?: boolean }>("layerNorm");
export const conv1d = factory<{ filters: number; kernelSize: number; strides?: number; padding?: Padding; dilationRate?: number; activation?: Activation; useBias?: boolean; kernelInitializer?: Initializer; biasInitializer?: Initializer }>("conv1d");
export const conv2d = factory<{ filters: number; kernelSize: Pair; strides?: Pair; padding?: Padding; dilationRate?: Pair; activation?: Activation; useBias?: boolean; kernelInitializer?: Initializer; biasInitializer?: Initializer }>("conv2d");
export const maxPool1d = factory<{ poolSize: number; strides?: number; padding?: Padding }>("maxPool1d");
export const maxPool2d = factory<{ poolSize: Pair; strides?: Pair; padding?: Padding }>("maxPool2d");
export const avgPool1d = factory<{ poolSize: number; strides?: number; padding?: Padding }>("avgPool1d");
export const avgPool2d = factory<{ poolSize: Pair; strides?: Pair; padding?: Padding }>("avgPool2d");
export const globalAvgPool1d = factory<Record<string, never>>("globalAvgPool1d");
export const globalAvgPool2d = factory<Record<string, never>>("globalAvgPool2d");
/** Integer ids → vectors; paddingIdx's row stays zero. See: keras Embedding, torch Embedding(padding_idx). */
export const embedding = factory<{ inputDim: number; outputDim: number; paddingIdx?: number; embeddingsInitializer?: Initializer }>("embedding");
type Regularizer = { l1?: number; l2?: number };
/** Options of simpleRnn, gru and lstm. */
export type RecurrentConfig = {
  units: number;
  activation?: Activation;
  recurrentActivation?: Activation;
  useBias?: boolean;
  returnSequences?: boolean;
  /**
   * Also return the final states: `nb.layer(spec, ...).apply(x)` gives `[output, h]`
   * (lstm `[output, h, c]`), as Keras/TF.js. For the layer on its own (`nb.layer`);
   * `nb.sequential`, one output per layer, refuses it.
   */
  returnState?: boolean;
  /** Process the sequence from its end (outputs in processing order, as Keras). */
  goBackwards?: boolean;
  kernelInitializer?: Initializer;
  recurrentInitializer?: Initializer;
  biasInitializer?: Initializer;
  kernelRegularizer?: Regularizer;
  recurrentRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
};
export type LstmConfig = RecurrentConfig & { unitForgetBias?: boolean };

/** A recurrent factory: `returnState` (true, false/absent, or unknown) decides what `apply` returns. */
export interface RecurrentFactory<C, States extends Tensor[]> {
  (config: C & { returnState: true }): LayerSpec<States>;
  (config: C & { returnState?: false }): LayerSpec<Tensor>;
  (config: C): LayerSpec<Tensor | States>;
}

/** Elman RNN, h' = act(x·W + h·U + b). See: keras SimpleRNN, torch RNN. */
export const simpleRnn = factory<RecurrentConfig, Tensor | RnnOutputs>("simpleRnn") as RecurrentFactory<RecurrentConfig, RnnOutputs>;
/** LSTM, gates in torch's order i, f, g, o; bias = b_ih + b_hh. */
export const lstm = factory<LstmConfig, Tensor | LstmOutputs>("lstm") as RecurrentFactory<LstmConfig, LstmOutputs>;
/** GRU, gates r, z, n (torch's), with input and recurrent biases. */
export const gru = factory<RecurrentConfig, Tensor | RnnOutputs>("gru") as RecurrentFactory<RecurrentConfig, RnnOutputs>;

type Merge = "concat" | "sum" | "mul" | "ave";
type Wrapped<K, C> = { layer: { kind: K; config: C }; mergeMode?: Merge };
/** bidirectional: the inner layer's `returnState` decides what `apply` returns. */
export interface BidirectionalFactory {
  (config: Wrapped<"lstm", RecurrentConfig & { returnState: true }>): LayerSpec<BidirectionalLstmOutputs>;
  (config: Wrapped<"gru" | "simpleRnn", RecurrentConfig & { returnState: true }>): LayerSpec<BidirectionalRnnOutputs>;
  (config: Wrapped<"lstm" | "gru" | "simpleRnn", RecurrentConfig & { returnState?: false }>): LayerSpec<Tensor>;
  (config: Wrapped<"lstm" | "gru" | "simpleRnn", RecurrentConfig>): LayerSpec<Tensor | Tensor[]>;
}
/** A forward and a backward copy of a recurrent layer, merged. See: keras Bidirectional. */
export const bidirectional = factory<Wrapped<"lstm" | "gru" | "simpleRnn", RecurrentConfig>, Tensor | Tensor[]>("bidirectional") as BidirectionalFactory;
