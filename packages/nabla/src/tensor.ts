// Tensors: handles to f32 values that live in wasm memory, and `nb.tensor` to make them.

import * as wasm from "../wasm/nabla.js";
import { argError, core, StateError, ValueError } from "./errors.js";
import { ready } from "./init.js";

/** Nested arrays of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];

/** What `nb.tensor` accepts as values. */
export type TensorData = NestedArray | ArrayLike<number>;

let handleOf: (t: Tensor, op: string, arg: string) => wasm.Tensor;

export class Tensor {
  #handle: wasm.Tensor | undefined;
  /** Dimensions, outermost first (row-major). `[]` is a scalar. */
  readonly shape: readonly number[];
  /** Number of elements: the product of the dimensions. */
  readonly size: number;

  /** @internal Tensors are made by `nb.tensor` and the ops, not constructed directly. */
  constructor(handle: wasm.Tensor) {
    this.#handle = handle;
    this.shape = Object.freeze(Array.from(handle.shape));
    this.size = handle.size;
  }

  static {
    handleOf = (t, op, arg) => {
      if (!(t instanceof Tensor)) {
        throw argError(ValueError, "INVALID_ARGUMENT", op, arg, "a Tensor", describe(t));
      }
      if (!t.#handle) {
        throw new StateError(`${op}: invalid \`${arg}\`: the tensor was disposed`, {
          code: "DISPOSED",
          op,
          arg,
        });
      }
      return t.#handle;
    };
  }

  /** Whether `dispose()` has freed this tensor's memory. */
  get isDisposed(): boolean {
    return this.#handle === undefined;
  }

  /** A copy of the values, row-major. */
  data(): Float32Array {
    const h = handleOf(this, "data", "this");
    return core(() => h.data());
  }

  /** The values as nested arrays following the shape (a number for a scalar). */
  toArray(): NestedArray {
    const values = this.data();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return values[offset]!;
      const n = this.shape[dim]!;
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: n }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The one value of a tensor with exactly one element. */
  item(): number {
    if (this.size !== 1) {
      throw argError(ValueError, "INVALID_ARGUMENT", "item", "this", "a tensor with exactly 1 element", `shape [${this.shape.join(", ")}] (${this.size} elements)`);
    }
    return this.data()[0]!;
  }

  /** Frees the wasm memory now. Idempotent; the tensor cannot be used afterwards. */
  dispose(): void {
    this.#handle?.free();
    this.#handle = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return this.isDisposed ? "Tensor(disposed)" : `Tensor(shape=[${this.shape.join(", ")}])`;
  }
}

/** The wasm handle of a tensor argument; throws a NablaError naming `op` and `arg`. */
export function handle(t: Tensor, op: string, arg: string): wasm.Tensor {
  return handleOf(t, op, arg);
}

/**
 * A tensor from nested arrays (shape inferred) or flat values with a shape.
 * See: `torch.tensor`, `tf.tensor`.
 */
export function tensor(data: TensorData, shape?: readonly number[]): Tensor {
  ready("tensor");
  let values: Float32Array;
  let dims: number[];
  if (typeof data === "number" || Array.isArray(data)) {
    const inferred: number[] = [];
    values = flatten(data as NestedArray, inferred);
    dims = shape ? checkShapeArg(shape) : inferred;
  } else if (isArrayLike(data)) {
    values = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    dims = shape ? checkShapeArg(shape) : [values.length];
  } else {
    throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "data", "a number, nested arrays of numbers or a typed array", describe(data));
  }
  const dimsF64 = Float64Array.from(dims);
  return new Tensor(core(() => new wasm.Tensor(values, dimsF64)));
}

function checkShapeArg(shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "shape", "an array of non-negative integers", describe(shape));
  }
  return shape.map((d) => (typeof d === "number" ? d : NaN));
}

/** Flattens rectangular nested arrays row-major, recording the shape in `dims`. */
function flatten(data: NestedArray, dims: number[]): Float32Array {
  let node: NestedArray = data;
  while (Array.isArray(node)) {
    dims.push(node.length);
    if (node.length === 0) break;
    node = node[0]!;
  }
  const size = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  let k = 0;
  const walk = (x: NestedArray, depth: number, path: string): void => {
    if (depth === dims.length) {
      if (typeof x !== "number") {
        throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "data", `a number at data${path}`, describe(x));
      }
      out[k++] = x;
      return;
    }
    if (!Array.isArray(x) || x.length !== dims[depth]) {
      const got = Array.isArray(x) ? `an array of length ${x.length}` : describe(x);
      throw argError(
        ValueError,
        "INVALID_ARGUMENT",
        "tensor",
        "data",
        `a rectangular nested array: an array of length ${dims[depth]} at data${path}`,
        got,
      );
    }
    for (let i = 0; i < x.length; i++) walk(x[i]!, depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, "");
  return out;
}

function isArrayLike(x: unknown): x is ArrayLike<number> {
  return ArrayBuffer.isView(x) || (typeof x === "object" && x !== null && typeof (x as { length?: unknown }).length === "number");
}

/** A short description of a received value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (x instanceof Tensor) return x.toString();
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  if (typeof x === "string") return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x)}`;
  return `${typeof x} ${String(x)}`;
}
