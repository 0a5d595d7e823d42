// Differentiable ops on tensors. Each is one call into the wasm core.

import * as wasm from "../wasm/nabla.js";
import { core } from "./errors.js";
import { ready } from "./init.js";
import { handle, Tensor } from "./tensor.js";

/**
 * The matrix product of `a` (m×k) and `b` (k×n), an m×n tensor, computed by nabla's
 * SIMD128 GEMM kernel. See: `torch.matmul`, `tf.matMul` (2-D).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  ready("matmul");
  const ha = handle(a, "matmul", "a");
  const hb = handle(b, "matmul", "b");
  return new Tensor(core(() => wasm.matmul(ha, hb)));
}

/** The scalar reference kernels the SIMD ones are tested against: slow, for checking. */
export const reference = {
  /** `matmul` from the plain triple-loop kernel. */
  matmul(a: Tensor, b: Tensor): Tensor {
    ready("reference.matmul");
    const ha = handle(a, "reference.matmul", "a");
    const hb = handle(b, "reference.matmul", "b");
    return new Tensor(core(() => wasm.matmulReference(ha, hb)));
  },
};
