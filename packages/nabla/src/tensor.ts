// Tensors: handles to values that live in wasm memory, their lifetimes (dispose,
// `using`, tidy, and a FinalizationRegistry safety net), and the ways to make them.

import * as wasm from "../wasm/nabla.js";
import { argError, core, StateError, ValueError } from "./errors.js";
import { ready, wasmMemoryBytes } from "./init.js";

/** Nested arrays of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];

/** What `nb.tensor` accepts as values. */
export type TensorData = NestedArray | ArrayLike<number>;

/** Element types: `float32` for everything computed, `int32` for labels and indices. */
export type DType = "float32" | "int32";

// Frees the wasm memory of tensors that were garbage-collected without dispose().
const registry =
  typeof FinalizationRegistry === "undefined"
    ? undefined
    : new FinalizationRegistry<number>((id) => {
        wasm.tensorFree(id);
      });

// Open tidy() scopes, innermost last: every tensor made while one is open is listed there.
const scopes: Tensor[][] = [];

let idOf: (t: Tensor, op: string, arg: string) => number;

export class Tensor {
  #id: number;
  #shape: readonly number[] | undefined;
  #dtype: DType | undefined;

  /** @internal Tensors are made by `nb.tensor` and the ops, not constructed directly. */
  constructor(id: number) {
    this.#id = id;
    registry?.register(this, id, this);
    scopes[scopes.length - 1]?.push(this);
  }

  static {
    idOf = (t, op, arg) => {
      if (!(t instanceof Tensor)) {
        throw argError(ValueError, "INVALID_ARGUMENT", op, arg, "a Tensor", describe(t));
      }
      if (t.#id === 0) {
        throw new StateError(`${op}: invalid \`${arg}\`: the tensor was disposed`, { code: "DISPOSED", op, arg });
      }
      return t.#id;
    };
  }

  /** Dimensions, outermost first (row-major). `[]` is a scalar. */
  get shape(): readonly number[] {
    this.#shape ??= Object.freeze(Array.from(core(() => wasm.tensorShape(idOf(this, "shape", "this")))));
    return this.#shape;
  }

  /** Number of elements: the product of the dimensions. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get rank(): number {
    return this.shape.length;
  }

  get dtype(): DType {
    this.#dtype ??= core(() => wasm.tensorDtype(idOf(this, "dtype", "this"))) as DType;
    return this.#dtype;
  }

  /** Whether `dispose()` has freed this tensor's memory. */
  get isDisposed(): boolean {
    return this.#id === 0;
  }

  /** A copy of the values, row-major (int32 tensors' values converted to floats). */
  data(): Float32Array {
    const id = idOf(this, "data", "this");
    return core(() => wasm.tensorData(id));
  }

  /** A copy of an int32 tensor's values (labels, indices such as argmax's). */
  dataInt32(): Int32Array {
    const id = idOf(this, "dataInt32", "this");
    return core(() => wasm.tensorDataI32(id));
  }

  /** The values as nested arrays following the shape (a number for a scalar). */
  toArray(): NestedArray {
    const values = this.dtype === "int32" ? this.dataInt32() : this.data();
    const shape = this.shape;
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === shape.length) return values[offset]!;
      const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
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
    if (this.#id === 0) return;
    registry?.unregister(this);
    wasm.tensorFree(this.#id);
    this.#id = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return this.isDisposed ? "Tensor(disposed)" : `Tensor(${this.dtype}, shape=[${this.shape.join(", ")}])`;
  }
}

/** The wasm id of a tensor argument; throws a NablaError naming `op` and `arg`. */
export function handle(t: Tensor, op: string, arg: string): number {
  return idOf(t, op, arg);
}

/** Wraps the id an op returned. */
export function wrap(id: number): Tensor {
  return new Tensor(id);
}

/**
 * A tensor from nested arrays (shape inferred) or flat values with a shape. An
 * `Int32Array`, or `dtype: "int32"`, makes an int32 tensor (class labels).
 * See: `torch.tensor`, `tf.tensor`.
 */
export function tensor(data: TensorData, shape?: readonly number[], dtype?: DType): Tensor {
  ready("tensor");
  let values: ArrayLike<number>;
  let dims: number[];
  if (typeof data === "number" || Array.isArray(data)) {
    const inferred: number[] = [];
    values = flatten(data as NestedArray, inferred);
    dims = shape === undefined ? inferred : shapeArg("tensor", shape);
  } else if (isArrayLike(data)) {
    values = data;
    dims = shape === undefined ? [data.length] : shapeArg("tensor", shape);
  } else {
    throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "data", "a number, nested arrays of numbers or a typed array", describe(data));
  }
  const type = dtype ?? (data instanceof Int32Array ? "int32" : "float32");
  if (type !== "float32" && type !== "int32") {
    throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "dtype", '"float32" or "int32"', describe(dtype));
  }
  const shapeF64 = Float64Array.from(dims);
  if (type === "int32") {
    const ints = data instanceof Int32Array ? data : Int32Array.from(values as ArrayLike<number>);
    for (let i = 0; i < ints.length; i++) {
      if (ints[i] !== (values as ArrayLike<number>)[i]) {
        throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "data", "int32 values for dtype int32", `${(values as ArrayLike<number>)[i]} at index ${i}`);
      }
    }
    return wrap(core(() => wasm.tensorI32(ints, shapeF64)));
  }
  const floats = values instanceof Float32Array ? values : Float32Array.from(values);
  return wrap(core(() => wasm.tensorF32(floats, shapeF64)));
}

/** A float tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number): Tensor {
  ready("full");
  if (typeof value !== "number") throw argError(ValueError, "INVALID_ARGUMENT", "full", "value", "a number", describe(value));
  const dims = Float64Array.from(shapeArg("full", shape));
  return wrap(core(() => wasm.generate("full", dims, value, 0, 0)));
}

export function zeros(shape: readonly number[]): Tensor {
  return full(shape, 0);
}

export function ones(shape: readonly number[]): Tensor {
  return full(shape, 1);
}

export interface RandomOptions {
  /** An integer in [0, 2^53]: the same seed gives the same values in every runtime. Random if omitted. */
  seed?: number;
}

function seedArg(op: string, options: RandomOptions): number {
  const seed = options.seed;
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 53);
  if (typeof seed !== "number") throw argError(ValueError, "INVALID_ARGUMENT", op, "seed", "an integer in [0, 2^53]", describe(seed));
  return seed;
}

/**
 * Normally distributed values (xoshiro128** + Box–Muller in the wasm core, so a seed
 * gives the same values in every runtime). See: `torch.randn`, `tf.randomNormal`.
 */
export function randn(shape: readonly number[], options: RandomOptions & { mean?: number; stddev?: number } = {}): Tensor {
  ready("randn");
  const dims = Float64Array.from(shapeArg("randn", shape));
  const seed = seedArg("randn", options);
  return wrap(core(() => wasm.generate("randn", dims, options.mean ?? 0, options.stddev ?? 1, seed)));
}

/** Uniform values in [min, max) (default [0, 1)). See: `torch.rand`, `tf.randomUniform`. */
export function randUniform(shape: readonly number[], options: RandomOptions & { min?: number; max?: number } = {}): Tensor {
  ready("randUniform");
  const dims = Float64Array.from(shapeArg("randUniform", shape));
  const seed = seedArg("randUniform", options);
  return wrap(core(() => wasm.generate("randUniform", dims, options.min ?? 0, options.max ?? 1, seed)));
}

export interface MemoryInfo {
  /** Tensors alive in wasm memory (not yet disposed or collected). */
  tensors: number;
  /** Bytes of their values. */
  bytes: number;
  /** Size of the whole wasm linear memory (it grows, never shrinks). */
  wasmBytes: number;
}

export function memory(): MemoryInfo {
  ready("memory");
  const [tensors, bytes] = wasm.memoryStats();
  return { tensors: tensors!, bytes: bytes!, wasmBytes: wasmMemoryBytes() };
}

/** What `tidy` may return: tensors kept, in any nesting of arrays and plain objects. */
export type TidyResult = Tensor | void | undefined | number | string | boolean | null | TidyResult[] | { [key: string]: TidyResult };

/**
 * Runs `fn` and disposes every tensor made inside it except those it returns. For
 * synchronous code; for lifetimes that cross `await`, use `using` or `dispose()`.
 * See: `tf.tidy`.
 */
export function tidy<T extends TidyResult>(fn: () => T): T {
  if (typeof fn !== "function") throw argError(ValueError, "INVALID_ARGUMENT", "tidy", "fn", "a function", describe(fn));
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new StateError("tidy: expected a synchronous function, received one that returned a Promise (use `using` or dispose() across await)", {
      code: "INVALID_STATE",
      op: "tidy",
      arg: "fn",
    });
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) {
    if (kept.has(t)) scopes[scopes.length - 1]?.push(t);
    else t.dispose();
  }
  return result;
}

/** Exempts `t` from the innermost open `tidy`, so it outlives it. */
export function keep<T extends Tensor>(t: T): T {
  const scope = scopes[scopes.length - 1];
  if (scope) {
    const i = scope.indexOf(t);
    if (i >= 0) scope.splice(i, 1);
  }
  return t;
}

/** Disposes every tensor in `x` (any nesting of arrays and plain objects). */
export function dispose(x: TidyResult): void {
  const found = new Set<Tensor>();
  collect(x, found);
  for (const t of found) t.dispose();
}

function collect(x: unknown, out: Set<Tensor>): void {
  if (x instanceof Tensor) out.add(x);
  else if (Array.isArray(x)) for (const v of x) collect(v, out);
  else if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x)) collect(v, out);
  }
}

/** A shape argument: an array (values are checked by the core: non-negative integers). */
export function shapeArg(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw argError(ValueError, "INVALID_ARGUMENT", op, "shape", "an array of non-negative integers", describe(shape));
  }
  return shape.map((d) => (typeof d === "number" ? d : NaN));
}

/** Flattens rectangular nested arrays row-major, recording the shape in `dims`. */
function flatten(data: NestedArray, dims: number[]): Float64Array {
  let node: NestedArray = data;
  while (Array.isArray(node)) {
    dims.push(node.length);
    if (node.length === 0) break;
    node = node[0]!;
  }
  const size = dims.reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
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
      throw argError(ValueError, "INVALID_ARGUMENT", "tensor", "data", `a rectangular nested array: an array of length ${dims[depth]} at data${path}`, got);
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
  if (x === undefined) return "undefined";
  if (x instanceof Tensor) return x.toString();
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  if (typeof x === "function") return "a function";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  if (typeof x === "string") return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x)}`;
  return `${typeof x} ${String(x)}`;
}
