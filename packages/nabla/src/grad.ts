// Autograd from JavaScript: the function runs as usual, the wasm core records the ops
// on a tape, and the backward pass runs in wasm. Tensors made inside the function are
// freed afterwards; the tape keeps what backward needs.

import * as wasm from "../wasm/nabla.js";
import { argError, core, ValueError } from "./errors.js";
import { ready } from "./init.js";
import { describe, handle, Tensor, tidy, wrap } from "./tensor.js";

export interface ValueAndGrad {
  /** What the function returned. */
  value: Tensor;
  /** d(sum of value)/d(arg), one per argument, each with that argument's shape. */
  grads: Tensor[];
}

function run(op: string, f: (...args: Tensor[]) => Tensor, args: Tensor[], dy: Tensor | undefined): ValueAndGrad {
  ready(op);
  if (typeof f !== "function") throw argError(ValueError, "INVALID_ARGUMENT", op, "f", "a function", describe(f));
  const ids = args.map((a, i) => handle(a, op, `args[${i}]`));
  const dyId = dy === undefined ? undefined : handle(dy, op, "dy");
  core(() => wasm.beginGrad(Uint32Array.from(ids)));
  let gradIds: Uint32Array;
  let value: Tensor;
  try {
    // tidy frees every intermediate: the tape holds its own references.
    value = tidy(() => {
      const y = f(...args);
      if (!(y instanceof Tensor)) {
        throw argError(ValueError, "INVALID_ARGUMENT", op, "f", "a function returning a Tensor", `one returning ${describe(y)}`);
      }
      return y;
    });
    const yId = handle(value, op, "result");
    gradIds = core(() => wasm.endGrad(yId, dyId, Uint32Array.from(ids)));
  } catch (e) {
    wasm.abortGrad();
    throw e;
  }
  return { value, grads: Array.from(gradIds, wrap) };
}

/**
 * `nb.grad(f)(...args)`: the gradient of `sum(f(...args))` with respect to each
 * argument, computed by reverse-mode autodiff in wasm. An argument `f` does not
 * depend on gets zeros. See: `tf.grads`, `torch.autograd.grad`.
 */
export function grad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => Tensor[] {
  return (...args) => {
    const { value, grads } = run("grad", f, args, undefined);
    value.dispose();
    return grads;
  };
}

/** `nb.valueAndGrad(f)(...args)`: `f`'s result and its gradients in one pass. */
export function valueAndGrad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => ValueAndGrad {
  return (...args) => run("valueAndGrad", f, args, undefined);
}

/** The vector–Jacobian product: gradients of `sum(f(...args) · dy)`. */
export function vjp(f: (...args: Tensor[]) => Tensor, dy: Tensor): (...args: Tensor[]) => ValueAndGrad {
  return (...args) => run("vjp", f, args, dy);
}
