// Layer factories: each validates its options in the wasm core when it is made (a bad
// hyperparameter fails here, not at the first training step) and returns a serializable
// description that `nb.sequential` (with the models issue) builds into wasm layers.
// The layers' math lives in the core (one Rust file per layer); one line each here.

import * as wasm from "../wasm/nabla.js";
import { argError, core, ValueError } from "./errors.js";
import { ready } from "./init.js";
import { describe } from "./tensor.js";

export type Activation =
  | "linear" | "relu" | "gelu" | "geluTanh" | "sigmoid" | "tanh" | "softmax" | "logSoftmax" | "softplus" | "silu"
  | { type: "leakyRelu"; alpha?: number }
  | { type: "elu"; alpha?: number };

export type Initializer =
  | "glorotUniform" | "glorotNormal" | "heUniform" | "heNormal" | "lecunUniform" | "lecunNormal" | "orthogonal" | "zeros" | "ones"
  | { type: "constant"; value: number }
  | { type: "randomNormal"; mean?: number; stddev?: number }
  | { type: "randomUniform"; min?: number; max?: number };

export interface LayerSpec {
  readonly kind: string;
  readonly config: Readonly<Record<string, unknown>>;
  toJSON(): { kind: string; config: Record<string, unknown> };
}

/** The catalogue, one line per layer. A test holds it equal to the core's. */
export const KINDS = [
  "dense", "activation", "dropout", "flatten", "reshape", "batchNorm", "layerNorm", "conv1d", "conv2d",
  "maxPool1d", "maxPool2d", "avgPool1d", "avgPool2d", "globalAvgPool1d", "globalAvgPool2d",
  "embedding", "simpleRnn", "lstm", "gru", "bidirectional",
] as const;

function factory<C extends object>(kind: string) {
  return (config: C = {} as C): LayerSpec => {
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
type Recurrent = {
  units: number;
  activation?: Activation;
  recurrentActivation?: Activation;
  useBias?: boolean;
  returnSequences?: boolean;
  /** Only false for now: returning the final states needs the multi-output model API. */
  returnState?: false;
  /** Process the sequence from its end (outputs in processing order, as Keras). */
  goBackwards?: boolean;
  kernelInitializer?: Initializer;
  recurrentInitializer?: Initializer;
  biasInitializer?: Initializer;
  kernelRegularizer?: Regularizer;
  recurrentRegularizer?: Regularizer;
  biasRegularizer?: Regularizer;
};
export const simpleRnn = factory<Recurrent>("simpleRnn");
/** LSTM, gates in torch's order i, f, g, o; bias = b_ih + b_hh. */
export const lstm = factory<Recurrent & { unitForgetBias?: boolean }>("lstm");
/** GRU, gates r, z, n (torch's), with input and recurrent biases. */
export const gru = factory<Recurrent>("gru");
export const bidirectional = factory<{ layer: { kind: "lstm" | "gru" | "simpleRnn"; config: Recurrent }; mergeMode?: "concat" | "sum" | "mul" | "ave" }>("bidirectional");
