// A layer on its own, outside a model: `nb.layer(spec, { inputShape, seed })`. Its
// weights are ordinary tensors and `apply` is recorded by autograd, so custom training
// loops (`nb.valueAndGrad` + an optimizer's `step`) train it; recurrent layers take
// `initialState` and, with `returnState`, give their final states. The work (building,
// the forward pass, the tape op and its backward) is the core's
// (crates/nabla-core/src/layers/standalone.rs); this file only types and marshals.

import * as wasm from "../wasm/nabla.js";
import { argError, core, StateError, ValueError } from "./errors.js";
import { ready } from "./init.js";
import type { LayerSpec } from "./layers.js";
import { describe, handle, keep, type Tensor, wrap } from "./tensor.js";

export interface LayerOptions {
  /**
   * The shape of one sample, without the batch axis: `[features]` for dense,
   * `[time, features]` for a recurrent layer, whose `time` may be `null` for sequences
   * of any length (Keras's `None`; e.g. a decoder trained on whole sequences and then
   * stepped one step at a time).
   */
  inputShape: readonly (number | null)[];
  /** Seed of the weight initialization (default 0). */
  seed?: number;
}

export interface ApplyOptions {
  /**
   * The states to start from instead of zeros, one `[batch, units]` tensor per
   * `layer.stateNames`: `[h]` (simpleRnn, gru), `[h, c]` (lstm), the forward copy's
   * then the backward copy's for bidirectional — what `returnState` gives back, so
   * passing it on continues the sequence. Gradients flow into them. See: Keras's
   * `initial_state`, torch's `(h_0, c_0)`.
   */
  initialState?: readonly Tensor[];
}

type Shape = readonly (number | null)[];

interface Description {
  kind: string;
  inputShape: (number | null)[];
  outputShape: (number | null)[];
  weightNames: string[];
  stateNames: string[];
  returnState: boolean;
}

/**
 * A layer with its own weights, used outside a model. `Out` is what `apply` returns:
 * a `Tensor`, or with `returnState: true` the output and the final states
 * (`[output, h]`, lstm `[output, h, c]`). Make one with `nb.layer`.
 */
export class Layer<Out extends Tensor | Tensor[] = Tensor | Tensor[]> {
  #l: wasm.Layer | undefined;
  /** The layer's name in `nb.layers` (`lstm`). */
  readonly kind: string;
  /** The options it was made with. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly inputShape: Shape;
  /** The output's shape without the batch axis (`null`: as long as the input). */
  readonly outputShape: Shape;
  /**
   * The parameters as tensors, in the layer's order (names in `weightNames`): lstm
   * `kernel [in, 4H]`, `recurrentKernel [H, 4H]`, `bias [4H]`, as in `nb.sequential`'s
   * `getWeights`. Pass them to `nb.grad`/`nb.valueAndGrad` to get their gradients, and
   * to an optimizer's `step` to update them in place.
   */
  readonly weights: readonly Tensor[];
  readonly weightNames: readonly string[];
  /** The recurrent states `initialState` takes and `returnState` gives, by name ([] if none). */
  readonly stateNames: readonly string[];
  /** Whether `apply` returns `[output, ...final states]`. */
  readonly returnState: boolean;

  /** @internal Use nb.layer. */
  constructor(spec: LayerSpec<Tensor | Tensor[]>, options: LayerOptions) {
    if (typeof spec !== "object" || spec === null || typeof spec.kind !== "string" || typeof spec.config !== "object") {
      throw argError(ValueError, "INVALID_ARGUMENT", "layer", "spec", "a layer from nb.layers, e.g. nb.layers.lstm({ units: 16 })", describe(spec));
    }
    if (typeof options !== "object" || options === null || !Array.isArray(options.inputShape)) {
      throw argError(ValueError, "INVALID_ARGUMENT", "layer", "options.inputShape", "the shape of one sample, e.g. [time, features]", describe(options?.inputShape));
    }
    // NaN and undefined would stringify as null (any length): keep them visible to the core's check.
    const shape = JSON.stringify(options.inputShape, (_, v) => (v === undefined || (typeof v === "number" && !Number.isFinite(v)) ? String(v) : v));
    const l = core(() => new wasm.Layer(spec.kind, JSON.stringify(spec.config), shape, options.seed ?? 0));
    const d = JSON.parse(l.describe()) as Description;
    this.#l = l;
    this.kind = d.kind;
    this.config = spec.config;
    this.inputShape = Object.freeze(d.inputShape);
    this.outputShape = Object.freeze(d.outputShape);
    // The layer owns its weights: a tidy() around nb.layer must not free them.
    this.weights = Object.freeze(Array.from(l.weights(), (id) => keep(wrap(id))));
    this.weightNames = Object.freeze(d.weightNames);
    this.stateNames = Object.freeze(d.stateNames);
    this.returnState = d.returnState;
  }

  #layer(): wasm.Layer {
    if (!this.#l) throw argError(StateError, "DISPOSED", this.kind, "layer", "a live layer", "a disposed layer (dispose() was called)");
    return this.#l;
  }

  /**
   * `layer(x)`, recorded by autograd: inside `nb.grad`/`nb.valueAndGrad` gradients flow
   * to `x`, to `initialState` and to `weights` (when they are arguments of the function
   * differentiated). Returns the output, or with `returnState` `[output, ...final
   * states]`. The layer runs as at inference; the same layer may be applied any number
   * of times, also inside one gradient (a decoder stepped in a loop).
   */
  apply(x: Tensor, options: ApplyOptions = {}): Out {
    const l = this.#layer();
    const xi = handle(x, this.kind, "x");
    const init = options?.initialState ?? [];
    if (!Array.isArray(init)) {
      throw argError(ValueError, "INVALID_ARGUMENT", this.kind, "initialState", `an array of tensors (${this.stateNames.join(", ") || "none"})`, describe(init));
    }
    const ids = Uint32Array.from(init, (t, i) => handle(t, this.kind, `initialState[${i}]`));
    const out = Array.from(core(() => l.apply(xi, ids)), wrap);
    return (this.returnState ? out : out[0]!) as Out;
  }

  /** Copies `values` into the weights (same order and shapes as `weights`). */
  setWeights(values: readonly Tensor[]): void {
    const l = this.#layer();
    if (!Array.isArray(values)) throw argError(ValueError, "INVALID_ARGUMENT", "setWeights", "weights", "an array of tensors", describe(values));
    const ids = Uint32Array.from(values, (t, i) => handle(t, "setWeights", `weights[${i}]`));
    core(() => l.setWeights(ids));
  }

  get isDisposed(): boolean {
    return this.#l === undefined;
  }

  /** Frees the layer and its weights. Idempotent. */
  dispose(): void {
    if (!this.#l) return;
    for (const w of this.weights) w.dispose();
    this.#l.free();
    this.#l = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Layer(${this.kind}, input [batch, ${this.inputShape.map((d) => d ?? "time").join(", ")}] → [batch, ${this.outputShape.map((d) => d ?? "time").join(", ")}]${this.returnState ? ` + states ${this.stateNames.join(", ")}` : ""})`;
  }
}

/**
 * A layer on its own: built now for samples of `inputShape` (weights initialized from
 * `seed`), applied to tensors with `apply`, trained with a custom loop.
 *
 * ```ts
 * const enc = nb.layer(nb.layers.lstm({ units: 16, returnState: true }), { inputShape: [null, 8], seed: 1 });
 * const dec = nb.layer(nb.layers.lstm({ units: 16, returnSequences: true }), { inputShape: [null, 8], seed: 2 });
 * const [, h, c] = enc.apply(source);                           // Tensor[]: output, h, c
 * const y = dec.apply(target, { initialState: [h, c] });        // Tensor
 * ```
 *
 * Why this shape: TF.js's `tf.layers.lstm({ returnState: true }).apply(x)` builds the
 * layer lazily at its first call; nabla builds it at once from `inputShape`, as
 * `nb.sequential` does, so `weights` exist before the first call — to hand to
 * `valueAndGrad` and an optimizer's `step` — and a bad shape fails where the layer is
 * made. It takes the same `nb.layers` descriptions and the same `{ inputShape, seed }`
 * as `nb.sequential`, and `apply`'s return type follows `returnState` (`Tensor[]`
 * tuples such as `[output, h, c]` when true, `Tensor` otherwise) from the description's
 * type. A `nb.sequential` model, one output per layer, refuses `returnState`.
 *
 * NOTE: the layer runs as at inference: dropout and batchNorm (which train differently)
 * and regularizers (a penalty `apply` cannot add to your loss) are refused.
 * See: `tf.layers.lstm(...).apply`, Keras's functional `LSTM(return_state=True)`,
 * `torch.nn.LSTM` (`output, (h_n, c_n) = lstm(x, (h_0, c_0))`).
 */
export function layer<S extends LayerSpec<Tensor | Tensor[]>>(spec: S, options: LayerOptions): Layer<LayerOutput<S>> {
  ready("layer");
  return new Layer<LayerOutput<S>>(spec, options);
}

/** What `apply` returns for a spec (a union of specs gives the union of their outputs). */
export type LayerOutput<S> = S extends LayerSpec<infer Out> ? Out : never;
