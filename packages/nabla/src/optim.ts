// Optimizers: factories returning an object whose `step` updates parameter tensors in
// place from their gradients, inside wasm. The update rules (torch.optim's, documented
// in the core's optim module) and their state live in the wasm core.

import * as wasm from "../wasm/nabla.js";
import { argError, core, ValueError } from "./errors.js";
import { ready } from "./init.js";
import { describe, handle, type Tensor } from "./tensor.js";

/** Learning-rate schedules, as a function of the number of steps taken. */
export type Schedule =
  | { type: "exponential"; gamma: number; decaySteps?: number; staircase?: boolean }
  | { type: "step"; stepSize: number; gamma?: number }
  | { type: "cosine"; tMax: number; etaMin?: number }
  | { type: "warmup"; warmupSteps: number; then?: Schedule };

export interface OptimizerConfig {
  learningRate?: number;
  weightDecay?: number;
  /** Rescale all gradients together so their global L2 norm is at most this. */
  clipNorm?: number;
  /** Clamp every gradient value to [-clipValue, clipValue]. */
  clipValue?: number;
  schedule?: Schedule;
}

export interface SgdConfig extends OptimizerConfig {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}

export interface AdamConfig extends OptimizerConfig {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  amsgrad?: boolean;
}

export interface RmspropConfig extends OptimizerConfig {
  rho?: number;
  epsilon?: number;
  momentum?: number;
  centered?: boolean;
}

export interface AdagradConfig extends OptimizerConfig {
  lrDecay?: number;
  initialAccumulatorValue?: number;
  epsilon?: number;
}

export interface Optimizer {
  readonly name: string;
  readonly config: Readonly<OptimizerConfig>;
  /** Updates each parameter in place from its gradient (same order, same shapes). */
  step(params: readonly Tensor[], grads: readonly Tensor[]): void;
  /** The learning rate the next step will use (after the schedule). */
  readonly learningRate: number;
  /** Steps taken. */
  readonly iterations: number;
  /** Frees the optimizer's state. */
  dispose(): void;
}

function factory<C extends OptimizerConfig>(name: string) {
  return (config: C = {} as C): Optimizer => {
    ready(`optim.${name}`);
    if (typeof config !== "object" || config === null) {
      throw argError(ValueError, "INVALID_ARGUMENT", name, "config", "an object of options", describe(config));
    }
    const inner = core(() => new wasm.Optimizer(name, JSON.stringify(config)));
    return {
      name,
      config: Object.freeze({ ...config }),
      step(params, grads) {
        const ids = (ts: readonly Tensor[], arg: string) => {
          if (!Array.isArray(ts)) throw argError(ValueError, "INVALID_ARGUMENT", name, arg, "an array of tensors", describe(ts));
          return Uint32Array.from(ts.map((t, i) => handle(t, name, `${arg}[${i}]`)));
        };
        const p = ids(params, "params");
        const g = ids(grads, "grads");
        core(() => inner.step(p, g));
      },
      get learningRate() {
        return inner.learningRate();
      },
      get iterations() {
        return inner.iterations();
      },
      dispose() {
        inner.free();
      },
    };
  };
}

/** SGD with optional momentum / Nesterov and L2 weight decay. See: torch.optim.SGD. */
export const sgd = factory<SgdConfig>("sgd");
/** Adam (optionally AMSGrad), torch's update and bias correction. See: torch.optim.Adam. */
export const adam = factory<AdamConfig>("adam");
/** Adam with decoupled weight decay (default 0.01). See: torch.optim.AdamW. */
export const adamW = factory<AdamConfig>("adamW");
/** RMSprop (`rho` is torch's alpha), optionally centered and with momentum. See: torch.optim.RMSprop. */
export const rmsprop = factory<RmspropConfig>("rmsprop");
/** Adagrad with learning-rate decay. See: torch.optim.Adagrad. */
export const adagrad = factory<AdagradConfig>("adagrad");
