// nb.matmul through the whole path: JS tensors -> wasm SIMD128 GEMM -> JS, held to the
// scalar reference kernel and to an independent f64 product computed here.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { initReference } from "./helpers.js";

beforeAll(initReference);

function randomValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** The f64 product and, per element, Σ|a||b|: the scale of the rounding error of a dot product. */
function productF64(a: Float32Array, b: Float32Array, m: number, k: number, n: number) {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let sa = 0;
      for (let p = 0; p < k; p++) {
        s += a[i * k + p]! * b[p * n + j]!;
        sa += Math.abs(a[i * k + p]! * b[p * n + j]!);
      }
      c[i * n + j] = s;
      scale[i * n + j] = sa;
    }
  return { c, scale };
}

describe("nb.matmul", () => {
  it.each([
    [1, 1, 1],
    [7, 13, 5],
    [129, 257, 65],
    [3, 1, 17],
    [64, 784, 128],
  ])("%i×%i · %i×… equals the scalar reference within 1e-5 relative", (m, k, n) => {
    const av = randomValues(m * k, m + k);
    const bv = randomValues(k * n, k + n + 1);
    const a = nb.tensor(av, [m, k]);
    const b = nb.tensor(bv, [k, n]);
    const c = nb.matmul(a, b);
    const ref = nb.reference(() => nb.matmul(a, b));
    expect(c.shape).toEqual([m, n]);
    const got = c.data();
    const want = ref.data();
    const { c: exact, scale } = productF64(av, bv, m, k, n);
    for (let i = 0; i < got.length; i++) {
      // Against the reference kernel: relative to the element, floored at its error scale.
      const tol = 1e-5 * Math.max(Math.abs(want[i]!), scale[i]!);
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol);
      // Both against the exact product: a dot product's f32 error is below k·ε·Σ|a||b|.
      expect(Math.abs(got[i]! - exact[i]!)).toBeLessThanOrEqual(k * 2 ** -24 * scale[i]! + 1e-30);
    }
    for (const t of [a, b, c, ref]) t.dispose();
  });

  it("computes a known product", () => {
    const c = nb.matmul(
      nb.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      nb.tensor([
        [7, 8],
        [9, 10],
        [11, 12],
      ]),
    );
    expect(c.toArray()).toEqual([
      [58, 64],
      [139, 154],
    ]);
  });

  it("inner dimensions that differ throw a ShapeError naming both shapes", () => {
    const a = nb.tensor(new Float32Array(6), [2, 3]);
    const b = nb.tensor(new Float32Array(8), [4, 2]);
    let err: unknown;
    try {
      nb.matmul(a, b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(nb.ShapeError);
    const e = err as nb.ShapeError;
    expect(e.code).toBe("SHAPE_MISMATCH");
    expect(e.op).toBe("matmul");
    expect(e.arg).toBe("b");
    expect(e.expected).toBe("3 rows to match the 3 columns of `a` (shape [2, 3])");
    expect(e.received).toBe("shape [4, 2]");
    expect(e.message).not.toMatch(/panicked|unreachable|RuntimeError/);
    // The module is intact after the error.
    expect(nb.matmul(a, nb.tensor(new Float32Array(6), [3, 2])).shape).toEqual([2, 2]);
  });

  it("operands that are not matrices or not tensors are named", () => {
    expect(() => nb.matmul(nb.tensor([1, 2, 3]), nb.tensor([[1], [2], [3]]))).toThrow(
      "matmul: invalid `a`: expected a 2-D tensor (a matrix), received shape [3]",
    );
    expect(() => nb.matmul(nb.tensor([[1]]), [[1]] as never)).toThrow(
      "matmul: invalid `b`: expected a Tensor, received an array of length 1",
    );
  });
});
