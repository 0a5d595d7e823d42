// Losses: each is a factory returning a callable `Loss`. The math, the reduction and
// the gradients live in the wasm core (one Rust file per loss); this file only turns
// JavaScript arguments into tensors and lists the catalogue, one line per loss.

import * as wasm from "../wasm/nabla.js";
import { argError, core, ValueError } from "./errors.js";
import { ready } from "./init.js";
import { describe, handle, ones, Tensor, tensor, type TensorData, wrap } from "./tensor.js";

export type Reduction = "mean" | "sum" | "none" | "batchmean";

/** Options every loss takes. */
export interface LossConfig {
  /** "mean" (default), "sum", "none" (one value per unit), "batchmean" where it applies. */
  reduction?: Reduction;
}

/** Any loss's options: what `toJSON`, `fromConfig` and the advisor carry. */
export type AnyLossConfig = LossConfig & Record<string, unknown>;

/** A tensor, or values `nb.tensor` accepts (an `Int32Array` or integer arrays for labels). */
export type LossInput = Tensor | TensorData;

export interface LossCallOptions {
  /** Per-sample weights: shape `[batch]` (or any prefix of the per-unit loss shape). */
  sampleWeight?: LossInput;
  /** Extra inputs some losses take (`mask`, `inputLengths`, `labelLengths`). */
  [input: string]: LossInput | undefined;
}

type LossArgs = [...LossInput[], LossCallOptions] | LossInput[];

/**
 * A loss: call it for the value, `.grad` for d(loss)/d(prediction), `.tensor` inside
 * `nb.grad`. `Value` is `number` for "mean"/"sum"/"batchmean" and `Tensor` for "none";
 * `Grad` is one Tensor, or one per prediction for losses with several.
 */
export interface Loss<Value extends number | Tensor = number | Tensor, Grad extends Tensor | Tensor[] = Tensor | Tensor[]> {
  (...args: LossArgs): Value;
  grad(...args: LossArgs): Grad;
  /** The loss as a Tensor, recorded for `nb.grad` (custom training steps). */
  tensor(...args: LossArgs): Tensor;
  readonly name: string;
  readonly config: Readonly<AnyLossConfig>;
  /** `{ name, config }`, for `nb.losses.fromConfig`. */
  toJSON(): { name: string; config: AnyLossConfig };
}

/** A loss factory: the reduction decides whether calls return a number or a Tensor. */
export interface LossFactory<Options extends object, Grad extends Tensor | Tensor[] = Tensor> {
  (config: Options & { reduction: "none" }): Loss<Tensor, Grad>;
  (config?: Options & { reduction?: "mean" | "sum" | "batchmean" }): Loss<number, Grad>;
  (config: Options & LossConfig): Loss<number | Tensor, Grad>;
}

/** Class-index inputs: per-class weights and an ignored label. */
interface ClassOptions {
  /** One weight per class. */
  classWeights?: readonly number[];
  /** Samples with this label add nothing to the loss (or the count). */
  ignoreIndex?: number;
}
interface FromLogits {
  /** The prediction is logits (default false: probabilities). */
  fromLogits?: boolean;
}

export interface HuberOptions { delta?: number }
export interface SmoothL1Options { beta?: number }
export interface EpsilonOptions { epsilon?: number }
export interface QuantileOptions { q?: number }
export interface PoissonNllOptions { logInput?: boolean; full?: boolean; eps?: number }
export interface GaussianNllOptions { full?: boolean; eps?: number }
export interface BinaryCrossEntropyOptions extends FromLogits {
  /** Weight of the positive term: one number, or one per entry of the last axis. */
  posWeight?: number | readonly number[];
  labelSmoothing?: number;
  /** Probabilities are clipped to [epsilon, 1 - epsilon] (default 1e-15). */
  epsilon?: number;
}
export interface CrossEntropyOptions extends FromLogits, ClassOptions {
  labelSmoothing?: number;
  epsilon?: number;
}
export interface NllOptions extends ClassOptions {}
export interface KlDivergenceOptions { logInput?: boolean; logTarget?: boolean; epsilon?: number }
export interface FocalOptions extends FromLogits {
  gamma?: number;
  /** Weight of the positive class (default 0.25); null for no weighting. */
  alpha?: number | null;
}
export interface MultiMarginOptions { p?: 1 | 2; margin?: number; classWeights?: readonly number[] }
export interface ClassWeightOptions { classWeights?: readonly number[] }
export interface SequenceCrossEntropyOptions extends CrossEntropyOptions {
  /** "tokens" (default): mean over unmasked steps; "timesteps": mean over all steps. */
  normalize?: "tokens" | "timesteps";
}
export interface CtcOptions {
  /** The prediction is logits (default true); false: log-probabilities. */
  fromLogits?: boolean;
  /** The blank label's index (default 0). */
  blank?: number;
  /** Infinite losses (impossible alignments) and their gradients become 0. */
  zeroInfinity?: boolean;
}
export interface MarginOptions { margin?: number }
export interface TripletMarginOptions { margin?: number; p?: number; eps?: number; swap?: boolean }
export interface DiceOptions { smooth?: number }
export interface TverskyOptions { alpha?: number; beta?: number; smooth?: number }
type NoOptions = Record<never, never>;

interface Entry {
  /** Tensors in call order; the first may be integer labels where `labels` is set. */
  inputs: readonly string[];
  labels?: boolean;
  /** Trailing inputs that may be left out, and the value used then. */
  defaults?: Record<string, (given: Tensor[]) => Tensor>;
}

const yy = ["yTrue", "yPred"] as const;

/** Every loss, one line each. A test holds this list equal to the core's. */
export const CATALOGUE: Record<string, Entry> = {
  mse: { inputs: yy },
  mae: { inputs: yy },
  huber: { inputs: yy },
  smoothL1: { inputs: yy },
  logCosh: { inputs: yy },
  msle: { inputs: yy },
  mape: { inputs: yy },
  quantile: { inputs: yy },
  poissonNll: { inputs: yy },
  gaussianNll: { inputs: ["yTrue", "mean", "variance"] },
  binaryCrossEntropy: { inputs: yy },
  crossEntropy: { inputs: yy, labels: true },
  nll: { inputs: yy, labels: true },
  klDivergence: { inputs: yy },
  focal: { inputs: yy, labels: true },
  hinge: { inputs: yy },
  squaredHinge: { inputs: yy },
  categoricalHinge: { inputs: yy },
  multiMargin: { inputs: yy, labels: true },
  softMargin: { inputs: yy },
  multilabelSoftMargin: { inputs: yy },
  sequenceCrossEntropy: { inputs: [...yy, "mask"], labels: true, defaults: { mask: ([y]) => ones(y!.shape) } },
  ctc: {
    inputs: [...yy, "inputLengths", "labelLengths"],
    labels: true,
    defaults: {
      inputLengths: ([, p]) => tensor(new Int32Array(p!.shape[0]!).fill(p!.shape[1]!)),
      labelLengths: ([y]) => tensor(new Int32Array(y!.shape[0]!).fill(-1)), // -1: count non-padding labels
    },
  },
  cosineSimilarity: { inputs: yy },
  cosineEmbedding: { inputs: ["yTrue", "x1", "x2"] },
  marginRanking: { inputs: ["yTrue", "x1", "x2"] },
  tripletMargin: { inputs: ["anchor", "positive", "negative"] },
  hingeEmbedding: { inputs: yy },
  dice: { inputs: yy },
  tversky: { inputs: yy },
};

function isOptions(x: unknown): x is LossCallOptions {
  return typeof x === "object" && x !== null && !(x instanceof Tensor) && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

/** Integer arrays one rank below the prediction become int32 labels. */
function asTensor(name: string, arg: string, x: LossInput, labelsFor: Tensor | undefined, temps: Tensor[]): Tensor {
  if (x instanceof Tensor) return x;
  if (!(typeof x === "number" || Array.isArray(x) || ArrayBuffer.isView(x))) {
    throw argError(ValueError, "INVALID_ARGUMENT", name, arg, "a Tensor, nested arrays of numbers or a typed array", describe(x));
  }
  let t = tensor(x);
  temps.push(t);
  if (labelsFor && t.dtype === "float32" && t.rank === labelsFor.rank - 1) {
    const v = t.data();
    if (v.every((z) => Number.isInteger(z))) {
      t = tensor(Int32Array.from(v), t.shape);
      temps.push(t);
    }
  }
  return t;
}

function makeLoss(name: string, entry: Entry, config: AnyLossConfig): Loss {
  const json = JSON.stringify(config);
  // Validate the config now: a bad option fails at construction, not at the first step.
  core(() => wasm.lossCheck(name, json));

  const prepare = (args: unknown[], temps: Tensor[]) => {
    ready(name);
    const options = args.length > 0 && isOptions(args[args.length - 1]) ? (args.pop() as LossCallOptions) : {};
    const required = entry.inputs.length - Object.keys(entry.defaults ?? {}).length;
    if (args.length < required || args.length > entry.inputs.length) {
      throw argError(ValueError, "INVALID_ARGUMENT", name, "arguments", `${required} tensors (${entry.inputs.slice(0, required).join(", ")})`, `${args.length}`);
    }
    const given: Tensor[] = [];
    // Predictions first, so integer labels can be recognized by their rank.
    const pred = args[1] === undefined ? undefined : asTensor(name, entry.inputs[1]!, args[1] as LossInput, undefined, temps);
    for (let i = 0; i < entry.inputs.length; i++) {
      const arg = entry.inputs[i]!;
      const x = i < args.length ? args[i] : options[arg];
      if (x === undefined) {
        const make = entry.defaults?.[arg];
        if (!make) throw argError(ValueError, "INVALID_ARGUMENT", name, arg, "a tensor", "undefined");
        const t = make(given);
        temps.push(t);
        given.push(t);
      } else {
        given.push(i === 1 && pred ? pred : asTensor(name, arg, x as LossInput, i === 0 && entry.labels ? pred : undefined, temps));
      }
    }
    const ids = Uint32Array.from(given.map((t, i) => handle(t, name, entry.inputs[i]!)));
    const sw = options.sampleWeight === undefined ? undefined : handle(asTensor(name, "sampleWeight", options.sampleWeight, undefined, temps), name, "sampleWeight");
    return { ids, sw };
  };

  const run = <T>(args: unknown[], f: (ids: Uint32Array, sw: number | undefined) => T): T => {
    const temps: Tensor[] = [];
    try {
      const { ids, sw } = prepare([...args], temps);
      return f(ids, sw);
    } finally {
      for (const t of temps) t.dispose();
    }
  };

  const loss = ((...args: unknown[]) =>
    run(args, (ids, sw) => {
      const t = wrap(core(() => wasm.lossApply(name, json, ids, sw)));
      if (config.reduction === "none") return t;
      const v = t.item();
      t.dispose();
      return v;
    })) as Loss;
  Object.defineProperties(loss, {
    name: { value: name },
    config: { value: Object.freeze({ ...config }) },
    grad: {
      value: (...args: unknown[]) =>
        run(args, (ids, sw) => {
          const [value, ...grads] = Array.from(core(() => wasm.lossValueAndGrad(name, json, ids, sw)), wrap);
          value!.dispose();
          return grads.length === 1 ? grads[0]! : grads;
        }),
    },
    tensor: { value: (...args: unknown[]) => run(args, (ids, sw) => wrap(core(() => wasm.lossApply(name, json, ids, sw)))) },
    toJSON: { value: () => ({ name, config: { ...config } }) },
  });
  return loss;
}

function build(name: string, config: unknown): Loss {
  ready(`losses.${name}`);
  if (typeof config !== "object" || config === null) {
    throw argError(ValueError, "INVALID_ARGUMENT", name, "config", "an object of options", describe(config));
  }
  return makeLoss(name, CATALOGUE[name]!, { reduction: "mean", ...config });
}

function factory<Options extends object, Grad extends Tensor | Tensor[] = Tensor>(name: string): LossFactory<Options, Grad> {
  return ((config: object = {}) => build(name, config)) as LossFactory<Options, Grad>;
}

/** Rebuilds a loss from `loss.toJSON()` (or `{ name, config }`). */
export function fromConfig(spec: { name: string; config?: AnyLossConfig }): Loss {
  if (typeof spec !== "object" || spec === null || !(spec.name in CATALOGUE)) {
    throw argError(ValueError, "INVALID_ARGUMENT", "losses.fromConfig", "name", "the name of a loss in nb.losses", describe(spec?.name));
  }
  return build(spec.name, spec.config ?? {});
}

export interface AdviseQuestion {
  task: "regression" | "binary" | "multiclass" | "multilabel" | "sequence" | "ranking" | "segmentation";
  /** What the model's last layer outputs (default "logits"). */
  output?: "logits" | "probabilities";
  /** Regression targets with outliers. */
  outliers?: boolean;
  /** Class imbalance: true, or the ratio of the most to the least frequent class. */
  classImbalance?: boolean | number;
  network?: "mlp" | "cnn" | "rnn";
  /** Sequences: one label per time step (default true); false for unaligned label sequences (CTC). */
  aligned?: boolean;
  /** Ranking data: "pairs" (default), "triplets" or "similarity". */
  ranking?: "pairs" | "triplets" | "similarity";
  /** Regression targets are counts (Poisson). */
  counts?: boolean;
  /** Regression that should also predict its uncertainty (Gaussian NLL). */
  uncertainty?: boolean;
}

export interface Advice {
  /** The recommended loss's name in `nb.losses`, and its config: `nb.losses[advice.loss](advice.config)`. */
  loss: string;
  config: AnyLossConfig;
  /** Why, in sentences. */
  reasons: string[];
  /** Other good choices and when to prefer them. */
  alternatives: { loss: string; config: AnyLossConfig; when: string }[];
}

/**
 * Recommends a loss for a task, with its configuration and the reasons:
 * `nb.losses.advise({ task: "multiclass", output: "logits" })` →
 * `{ loss: "crossEntropy", config: { fromLogits: true }, reasons: [...] }`.
 */
export function advise(question: AdviseQuestion): Advice {
  ready("losses.advise");
  if (typeof question !== "object" || question === null) {
    throw argError(ValueError, "INVALID_ARGUMENT", "losses.advise", "question", "an object such as { task: \"multiclass\" }", describe(question));
  }
  return JSON.parse(core(() => wasm.lossAdvise(JSON.stringify(question))));
}

/** The core's catalogue (names, inputs), for tests and tools. */
export function coreCatalogue(): { name: string; inputs?: string[]; implemented: boolean }[] {
  ready("losses.coreCatalogue");
  return JSON.parse(wasm.lossCatalogue());
}

export const mse = factory<NoOptions>("mse");
export const mae = factory<NoOptions>("mae");
export const huber = factory<HuberOptions>("huber");
export const smoothL1 = factory<SmoothL1Options>("smoothL1");
export const logCosh = factory<NoOptions>("logCosh");
export const msle = factory<EpsilonOptions>("msle");
export const mape = factory<EpsilonOptions>("mape");
export const quantile = factory<QuantileOptions>("quantile");
export const poissonNll = factory<PoissonNllOptions>("poissonNll");
export const gaussianNll = factory<GaussianNllOptions, Tensor[]>("gaussianNll");
export const binaryCrossEntropy = factory<BinaryCrossEntropyOptions>("binaryCrossEntropy");
export const crossEntropy = factory<CrossEntropyOptions>("crossEntropy");
export const nll = factory<NllOptions>("nll");
export const klDivergence = factory<KlDivergenceOptions>("klDivergence");
export const focal = factory<FocalOptions>("focal");
export const hinge = factory<NoOptions>("hinge");
export const squaredHinge = factory<NoOptions>("squaredHinge");
export const categoricalHinge = factory<NoOptions>("categoricalHinge");
export const multiMargin = factory<MultiMarginOptions>("multiMargin");
export const softMargin = factory<NoOptions>("softMargin");
export const multilabelSoftMargin = factory<ClassWeightOptions>("multilabelSoftMargin");
export const sequenceCrossEntropy = factory<SequenceCrossEntropyOptions>("sequenceCrossEntropy");
export const ctc = factory<CtcOptions>("ctc");
export const cosineSimilarity = factory<EpsilonOptions>("cosineSimilarity");
export const cosineEmbedding = factory<MarginOptions, Tensor[]>("cosineEmbedding");
export const marginRanking = factory<MarginOptions, Tensor[]>("marginRanking");
export const tripletMargin = factory<TripletMarginOptions, Tensor[]>("tripletMargin");
export const hingeEmbedding = factory<MarginOptions>("hingeEmbedding");
export const dice = factory<DiceOptions>("dice");
export const tversky = factory<TverskyOptions>("tversky");
