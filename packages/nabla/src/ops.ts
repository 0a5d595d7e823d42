// Differentiable ops on tensors. Each is one call into the wasm core, which validates
// its arguments, computes with the SIMD kernels and records it for `grad`.

import * as wasm from "../wasm/nabla.js";
import { argError, core, ValueError } from "./errors.js";
import { ready } from "./init.js";
import { describe, handle, Tensor, tensor, wrap } from "./tensor.js";

/** A tensor, or a number used as a scalar tensor (broadcast). */
export type TensorLike = Tensor | number;

/** Runs `f` on the ids of `args`; numbers become scalar tensors freed right after. */
function apply(op: string, names: readonly string[], args: readonly TensorLike[], f: (...ids: number[]) => number): Tensor {
  ready(op);
  const temps: Tensor[] = [];
  try {
    const ids = args.map((a, i) => {
      if (typeof a === "number") {
        const t = tensor(a);
        temps.push(t);
        return handle(t, op, names[i]!);
      }
      return handle(a, op, names[i]!);
    });
    return wrap(core(() => f(...ids)));
  } finally {
    for (const t of temps) t.dispose();
  }
}

const binary = (name: string) => (a: TensorLike, b: TensorLike): Tensor =>
  apply(name, ["a", "b"], [a, b], (x, y) => wasm.binary(name, x, y));

const unary = (name: string) => (x: Tensor): Tensor => apply(name, ["x"], [x], (id) => wasm.unary(name, id));

/** `a + b`, broadcasting. See: `torch.add`, `tf.add`. */
export const add = binary("add");
/** `a - b`, broadcasting. */
export const sub = binary("sub");
/** `a * b` elementwise, broadcasting. */
export const mul = binary("mul");
/** `a / b`, broadcasting. */
export const div = binary("div");
/** `a ** b`, broadcasting. Gradient for `b` is taken as 0 where `a ≤ 0`. */
export const pow = binary("pow");
/** Elementwise larger value (NaN if either is NaN); ties split the gradient evenly. */
export const maximum = binary("maximum");
/** Elementwise smaller value (NaN if either is NaN); ties split the gradient evenly. */
export const minimum = binary("minimum");

export const neg = unary("neg");
export const abs = unary("abs");
export const square = unary("square");
export const sqrt = unary("sqrt");
export const relu = unary("relu");
export const exp = unary("exp");
/** `exp(x) - 1`, accurate near 0. */
export const expm1 = unary("expm1");
export const log = unary("log");
/** `log(1 + x)`, accurate near 0. */
export const log1p = unary("log1p");
export const tanh = unary("tanh");
export const sigmoid = unary("sigmoid");
/** `log(sigmoid(x))`, computed stably as `-softplus(-x)`. */
export const logSigmoid = unary("logSigmoid");
/** `log(1 + exp(x))`, computed stably. */
export const softplus = unary("softplus");
export const erf = unary("erf");
/** `x·Φ(x)` (exact, erf-based; PyTorch `approximate="none"`). */
export const gelu = unary("gelu");
/** The tanh approximation of gelu (PyTorch `approximate="tanh"`). */
export const geluTanh = unary("geluTanh");
/** `x·sigmoid(x)` (swish). */
export const silu = unary("silu");

/** Each value limited to [min, max]; the gradient passes where min ≤ x ≤ max. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  return apply("clip", ["x"], [x], (id) => wasm.clip(id, num("clip", "min", min), num("clip", "max", max)));
}

/** `a` where `condition` is nonzero, else `b`; all three broadcast. See: `torch.where`. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return apply("where", ["condition", "a", "b"], [condition, a, b], (c, x, y) => wasm.whereOp(c, x, y));
}

export interface ReduceOptions {
  /** Axis or axes to reduce (negative counts from the end); all when omitted. */
  axis?: number | number[];
  /** Keep reduced axes as size 1. */
  keepDims?: boolean;
}

function axes(op: string, axis: number | number[] | undefined): Float64Array | undefined {
  if (axis === undefined) return undefined;
  const list = Array.isArray(axis) ? axis : [axis];
  return Float64Array.from(list.map((a) => num(op, "axis", a)));
}

const reduction = (name: string) => (x: Tensor, options: ReduceOptions = {}): Tensor =>
  apply(name, ["x"], [x], (id) => wasm.reduce(name, id, axes(name, options.axis), options.keepDims ?? false));

/** Sum over axes. See: `torch.sum`, `tf.sum`. */
export const sum = reduction("sum");
/** Mean over axes. */
export const mean = reduction("mean");
/** Maximum over axes (NaN if any value is NaN); the gradient is shared by tied maxima. */
export const max = reduction("max");

/** `log Σ exp(x)` over axes, stable for any finite input. */
export function logSumExp(x: Tensor, options: ReduceOptions = {}): Tensor {
  return apply("logSumExp", ["x"], [x], (id) => wasm.logSumExp(id, axes("logSumExp", options.axis), options.keepDims ?? false));
}

/** Index of the largest value along `axis` (default -1), as an int32 tensor. Not differentiable. */
export function argmax(x: Tensor, axis = -1): Tensor {
  return apply("argmax", ["x"], [x], (id) => wasm.argmax(id, num("argmax", "axis", axis)));
}

/** `exp(x) / Σ exp(x)` along `axis` (default -1), max-shifted. */
export function softmax(x: Tensor, axis = -1): Tensor {
  return apply("softmax", ["x"], [x], (id) => wasm.softmax(id, num("softmax", "axis", axis)));
}

/** `x - logSumExp(x)` along `axis` (default -1). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return apply("logSoftmax", ["x"], [x], (id) => wasm.logSoftmax(id, num("logSoftmax", "axis", axis)));
}

/**
 * The matrix product of `a` (m×k) and `b` (k×n), an m×n tensor, computed by nabla's
 * SIMD128 GEMM kernel. See: `torch.matmul`, `tf.matMul` (2-D).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return apply("matmul", ["a", "b"], [a, b], (x, y) => wasm.matmul(x, y));
}

/** Permutes dimensions: output dimension i is input dimension `perm[i]` (default: reversed). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm === undefined ? undefined : Float64Array.from(list("transpose", "perm", perm));
  return apply("transpose", ["x"], [x], (id) => wasm.transpose(id, p));
}

/** The same values under another shape; one dimension may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = Float64Array.from(list("reshape", "shape", shape));
  return apply("reshape", ["x"], [x], (id) => wasm.reshape(id, s));
}

/** Padding of a convolution or pooling window. */
export type Padding =
  /** No padding: only windows that fit inside the input. */
  | "valid"
  /** TF/Keras "same": output size ceil(input / stride); with stride 2 the extra row/column goes bottom/right. */
  | "same"
  /** Explicit zeros: `p` on every side, `[ph, pw]` symmetric (PyTorch `padding=`), or `[top, bottom, left, right]` (1-D: `[left, right]`). */
  | number
  | readonly number[];

export interface Conv2dOptions {
  /** One value or `[height, width]`; default 1. */
  strides?: number | readonly [number, number];
  /** Default "valid". */
  padding?: Padding;
  /** One value or `[height, width]`; default 1. */
  dilationRate?: number | readonly [number, number];
}

export interface Conv1dOptions {
  stride?: number;
  padding?: Padding;
  dilationRate?: number;
}

function windows(op: string, arg: string, v: unknown, fallback: number): Float64Array {
  if (v === undefined) return Float64Array.of(fallback);
  if (typeof v === "number") return Float64Array.of(v);
  return Float64Array.from(list(op, arg, v));
}

function padding(op: string, p: Padding | undefined): [string, Float64Array] {
  if (p === undefined) return ["valid", new Float64Array()];
  if (p === "valid" || p === "same") return [p, new Float64Array()];
  if (typeof p === "number") return ["explicit", Float64Array.of(p)];
  if (Array.isArray(p)) return ["explicit", Float64Array.from(list(op, "padding", p))];
  throw argError(ValueError, "INVALID_ARGUMENT", op, "padding", '"valid", "same" or explicit sizes', describe(p));
}

/**
 * 2-D convolution, channels last: `x [batch, height, width, inChannels]` with
 * `filter [kernelHeight, kernelWidth, inChannels, outChannels]` gives
 * `[batch, outHeight, outWidth, outChannels]`. Cross-correlation, as in every framework.
 * See: `tf.conv2d` (same layouts); `torch.nn.functional.conv2d` (NCHW/OIHW: transpose at the edge).
 */
export function conv2d(x: Tensor, filter: Tensor, options: Conv2dOptions = {}): Tensor {
  const s = windows("conv2d", "strides", options.strides, 1);
  const d = windows("conv2d", "dilationRate", options.dilationRate, 1);
  const [p, sizes] = padding("conv2d", options.padding);
  return apply("conv2d", ["input", "filter"], [x, filter], (a, b) => wasm.conv(a, b, false, s, d, p, sizes));
}

/** 1-D convolution: `x [batch, length, inChannels]`, `filter [kernelSize, inChannels, outChannels]`. See: `tf.conv1d`. */
export function conv1d(x: Tensor, filter: Tensor, options: Conv1dOptions = {}): Tensor {
  const s = windows("conv1d", "stride", options.stride, 1);
  const d = windows("conv1d", "dilationRate", options.dilationRate, 1);
  const [p, sizes] = padding("conv1d", options.padding);
  return apply("conv1d", ["input", "filter"], [x, filter], (a, b) => wasm.conv(a, b, true, s, d, p, sizes));
}

export interface Pool2dOptions {
  /** One value or `[height, width]`. */
  poolSize: number | readonly [number, number];
  /** Default: `poolSize`. */
  strides?: number | readonly [number, number];
  /** Default "valid". */
  padding?: Padding;
}

export interface Pool1dOptions {
  poolSize: number;
  /** Default: `poolSize`. */
  stride?: number;
  padding?: Padding;
}

function pool(kind: "max" | "avg", oneD: boolean, x: Tensor, options: Pool2dOptions | Pool1dOptions): Tensor {
  const op = `${kind}Pool${oneD ? 1 : 2}d`;
  if (typeof options !== "object" || options === null) {
    throw argError(ValueError, "INVALID_ARGUMENT", op, "options", "an object with `poolSize`", describe(options));
  }
  const size = windows(op, "poolSize", options.poolSize, NaN);
  const strides = windows(op, oneD ? "stride" : "strides", oneD ? (options as Pool1dOptions).stride : (options as Pool2dOptions).strides, NaN);
  const s = Number.isNaN(strides[0]) ? size : strides;
  const [p, sizes] = padding(op, options.padding);
  return apply(op, ["input"], [x], (id) => wasm.pool(kind, id, oneD, size, s, p, sizes));
}

/** Max over windows of `[batch, height, width, channels]`; the gradient goes to each window's maximum. See: `tf.maxPool`. */
export const maxPool2d = (x: Tensor, options: Pool2dOptions): Tensor => pool("max", false, x, options);
/** Mean over windows, counting only in-bounds elements (NOTE: PyTorch's default counts padding). */
export const avgPool2d = (x: Tensor, options: Pool2dOptions): Tensor => pool("avg", false, x, options);
export const maxPool1d = (x: Tensor, options: Pool1dOptions): Tensor => pool("max", true, x, options);
export const avgPool1d = (x: Tensor, options: Pool1dOptions): Tensor => pool("avg", true, x, options);

/** Mean over all positions: `[batch, height, width, channels]` → `[batch, channels]`. */
export function globalAvgPool2d(x: Tensor): Tensor {
  return apply("globalAvgPool2d", ["input"], [x], (id) => wasm.globalAvgPool(id, false));
}

/** Mean over time: `[batch, length, channels]` → `[batch, channels]`. */
export function globalAvgPool1d(x: Tensor): Tensor {
  return apply("globalAvgPool1d", ["input"], [x], (id) => wasm.globalAvgPool(id, true));
}

/**
 * Runs `fn` with every kernel switched to its scalar reference twin, and returns its
 * result: `nb.reference(() => nb.matmul(a, b))` is the product from the plain
 * triple loop. Slow; for checking the SIMD kernels. Needs the test build of the .wasm
 * (`nb.info().referenceKernels`); the shipped one has the SIMD kernels only and throws
 * a `StateError` (INVALID_STATE).
 */
export function reference<T>(fn: () => T): T {
  ready("reference");
  core(() => wasm.setScalarKernels(true));
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

function num(op: string, arg: string, x: unknown): number {
  if (typeof x !== "number") throw argError(ValueError, "INVALID_ARGUMENT", op, arg, "a number", describe(x));
  return x;
}

function list(op: string, arg: string, xs: unknown): number[] {
  if (!Array.isArray(xs)) throw argError(ValueError, "INVALID_ARGUMENT", op, arg, "an array of integers", describe(xs));
  return xs.map((x) => num(op, arg, x));
}
