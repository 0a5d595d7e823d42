// nb.tensor and the Tensor handle: shapes, values, and bad input.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";

beforeAll(() => nb.init());

function thrown(f: () => unknown): nb.NablaError {
  try {
    f();
  } catch (e) {
    if (e instanceof nb.NablaError) return e;
    throw new Error(`expected a NablaError, got ${String(e)}`);
  }
  throw new Error("expected a NablaError, nothing was thrown");
}

describe("nb.tensor", () => {
  it("infers the shape of nested arrays and round-trips values", () => {
    const t = nb.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(Array.from(t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    t.dispose();
  });

  it("takes typed arrays with a shape, scalars, and empty tensors", () => {
    const t = nb.tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(nb.tensor(Int32Array.of(7, 8)).toArray()).toEqual([7, 8]);
    const s = nb.tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(2.5);
    expect(s.toArray()).toBe(2.5);
    expect(nb.tensor([], [0, 3]).shape).toEqual([0, 3]);
  });

  it("stores f32 values (rounded as Float32Array rounds)", () => {
    expect(nb.tensor([0.1]).data()[0]).toBe(Math.fround(0.1));
  });

  it("data whose length does not match the shape throws a ShapeError naming both", () => {
    const e = thrown(() => nb.tensor([1, 2, 3, 4, 5], [2, 3]));
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect(e.code).toBe("SHAPE_MISMATCH");
    expect(e.op).toBe("tensor");
    expect(e.arg).toBe("data");
    expect(e.expected).toBe("6 values for shape [2, 3]");
    expect(e.received).toBe("5 values");
    expect(e.message).toBe("tensor: invalid `data`: expected 6 values for shape [2, 3], received 5 values");
  });

  it("ragged nested arrays and non-numbers throw a ValueError with the position", () => {
    const e = thrown(() => nb.tensor([[1, 2], [3]]));
    expect(e).toBeInstanceOf(nb.ValueError);
    expect(e.message).toBe(
      "tensor: invalid `data`: expected a rectangular nested array: an array of length 2 at data[1], received an array of length 1",
    );
    const e2 = thrown(() => nb.tensor([[1, "x" as never]]));
    expect(e2.message).toBe('tensor: invalid `data`: expected a number at data[0][1], received the string "x"');
  });

  it("negative, fractional or non-finite dimensions throw a ValueError", () => {
    for (const [dim, shown] of [
      [-1, "-1"],
      [1.5, "1.5"],
      [NaN, "NaN"],
    ] as const) {
      const e = thrown(() => nb.tensor(new Float32Array(2), [2, dim]));
      expect(e).toBeInstanceOf(nb.ValueError);
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.arg).toBe("shape");
      expect(e.received).toBe(`${shown} at index 1 of [2, ${shown}]`);
    }
  });

  it("item() on a tensor of several elements names the shape", () => {
    const e = thrown(() => nb.tensor([1, 2]).item());
    expect(e.message).toBe("item: invalid `this`: expected a tensor with exactly 1 element, received shape [2] (2 elements)");
  });
});

describe("Tensor lifetime", () => {
  it("dispose() frees the tensor; using it afterwards throws a StateError", () => {
    const t = nb.tensor([1, 2, 3]);
    t.dispose();
    t.dispose(); // idempotent
    expect(t.isDisposed).toBe(true);
    const e = thrown(() => t.data());
    expect(e).toBeInstanceOf(nb.StateError);
    expect(e.code).toBe("DISPOSED");
    const e2 = thrown(() => nb.matmul(t, t));
    expect(e2.message).toBe("matmul: invalid `a`: the tensor was disposed");
  });

  it("Symbol.dispose disposes (for `using`)", () => {
    const t = nb.tensor([1]);
    t[Symbol.dispose]();
    expect(t.isDisposed).toBe(true);
  });
});
