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

/**
 * Runs `fn` with every kernel switched to its scalar reference twin, and returns its
 * result: `nb.reference(() => nb.matmul(a, b))` is the product from the plain
 * triple loop. Slow; for checking the SIMD kernels.
 */
export function reference<T>(fn: () => T): T {
  ready("reference");
  wasm.setScalarKernels(true);
  try {
    return fn();
  } finally {
    wasm.setScalarKernels(false);
  }
}

/** Helpers for benchmarks; not part of the stable API. */
export const internal = {
  /**
   * Runs the GEMM micro-kernel `reps` times on data that stays in L1 cache and returns
   * the flops done: time it to get the machine's SIMD128 GEMM ceiling.
   */
  microKernelPeak(reps: number): number {
    ready("internal.microKernelPeak");
    return wasm.microKernelPeak(reps);
  },
};
