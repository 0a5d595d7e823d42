// The errors users catch: one NablaError base with a stable `code`, a subclass per
// family, and the one place that turns a JavaScript error from the wasm core into them.

/** Stable error codes: switch on these, never on message text. */
export type ErrorCode =
  | "SHAPE_MISMATCH"
  | "INVALID_ARGUMENT"
  | "DTYPE_MISMATCH"
  | "NOT_INITIALIZED"
  | "DISPOSED"
  | "INVALID_STATE"
  | "NO_GRADIENT"
  | "NON_FINITE"
  | "INVALID_WASM"
  | "INTERNAL";

export interface ErrorFields {
  code: ErrorCode;
  /** The public name of the function that failed, e.g. `matmul`. */
  op?: string;
  /** The argument at fault, as named in the API. */
  arg?: string;
  expected?: string;
  received?: string;
}

/** Every failure a user can cause throws a NablaError (or a subclass). */
export class NablaError extends Error {
  readonly code: ErrorCode;
  readonly op: string | undefined;
  readonly arg: string | undefined;
  readonly expected: string | undefined;
  readonly received: string | undefined;

  constructor(message: string, fields: ErrorFields) {
    super(message);
    this.code = fields.code;
    this.op = fields.op;
    this.arg = fields.arg;
    this.expected = fields.expected;
    this.received = fields.received;
  }

  // Set explicitly rather than from the constructor's name, which minifiers rename.
  override get name(): string {
    return "NablaError";
  }
}

/** A shape, rank or length that does not fit (`SHAPE_MISMATCH`). */
export class ShapeError extends NablaError {
  override get name(): string {
    return "ShapeError";
  }
}

/** An argument whose value is not allowed (`INVALID_ARGUMENT`). */
export class ValueError extends NablaError {
  override get name(): string {
    return "ValueError";
  }
}

/** A call at the wrong time: before `init()`, or on a disposed tensor. */
export class StateError extends NablaError {
  override get name(): string {
    return "StateError";
  }
}

/** Bytes that are not what they claim: a wasm module that is not nabla's, a bad file. */
export class FormatError extends NablaError {
  override get name(): string {
    return "FormatError";
  }
}

/** Differentiation through an op that has no derivative (`NO_GRADIENT`). */
export class GradientError extends NablaError {
  override get name(): string {
    return "GradientError";
  }
}

/** Training diverged: a loss or gradient became NaN or infinite (`NON_FINITE`). */
export class NumericError extends NablaError {
  override get name(): string {
    return "NumericError";
  }
}

/** A bug in nabla itself (a trap in the wasm core). Please report it. */
export class InternalError extends NablaError {
  override get name(): string {
    return "InternalError";
  }
}

const classes = { ShapeError, ValueError, StateError, FormatError, GradientError, NumericError } as const;

/** "op: invalid `arg`: expected ..., received ..." — the wording of every argument error. */
export function argError<C extends typeof NablaError>(
  Class: C,
  code: ErrorCode,
  op: string,
  arg: string,
  expected: string,
  received: string,
): InstanceType<C> {
  const message = `${op}: invalid \`${arg}\`: expected ${expected}, received ${received}`;
  return new Class(message, { code, op, arg, expected, received }) as InstanceType<C>;
}

/** Maps what the wasm core threw to a NablaError; anything unknown is passed through. */
export function fromCore(e: unknown): unknown {
  if (e instanceof NablaError) return e;
  if (e instanceof Error) {
    const f = e as Error & Partial<Record<"code" | "kind" | "op" | "arg" | "expected" | "received", string>>;
    if (typeof f.code === "string" && typeof f.kind === "string") {
      const Class = classes[f.kind as keyof typeof classes] ?? NablaError;
      const fields: ErrorFields = { code: f.code as ErrorCode };
      if (f.op !== undefined) fields.op = f.op;
      if (f.arg !== undefined) fields.arg = f.arg;
      if (f.expected !== undefined) fields.expected = f.expected;
      if (f.received !== undefined) fields.received = f.received;
      return new Class(f.message, fields);
    }
    if (typeof WebAssembly !== "undefined" && e instanceof WebAssembly.RuntimeError) {
      return new InternalError(`nabla internal error (a bug; please report it): ${e.message}`, { code: "INTERNAL" });
    }
  }
  return e;
}

/** Runs a call into the wasm core, rethrowing its errors as NablaErrors. */
export function core<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromCore(e);
  }
}
