// The SIMD128 kernels against their scalar reference twins, in real wasm: every op
// runs once normally and once inside nb.reference(), on random shapes that include
// the odd sizes where vector tails and edges go wrong.
import fc from "fast-check";
import * as nb from "nabla";
import { beforeAll, describe, it } from "vitest";
import { close, randomValues } from "./helpers.js";

beforeAll(() => nb.init());

const SIZES = [0, 1, 3, 4, 5, 7, 15, 16, 17, 33];
const dim = fc.oneof(fc.constantFrom(...SIZES), fc.integer({ min: 1, max: 70 }));
const shape = fc.array(dim, { minLength: 1, maxLength: 3 });

function same(f: () => nb.Tensor, rtol: number, atol: number): void {
  nb.tidy(() => {
    const simd = f().data();
    const ref = nb.reference(f).data();
    close(simd, ref, rtol, atol);
  });
}

function rand(dims: number[], seed: number, scale = 3): nb.Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return nb.tensor(randomValues(n, seed, scale), dims);
}

describe("SIMD128 kernels equal their scalar twins in wasm", () => {
  it("binary arithmetic with broadcasting: bit-equal", () => {
    fc.assert(
      fc.property(shape, fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 1, max: 1e6 }), (a, ones, seed) => {
        const b = a.map((d, i) => (ones[i] ? 1 : d));
        for (const op of [nb.add, nb.sub, nb.mul, nb.div, nb.maximum, nb.minimum]) {
          same(() => op(rand(a, seed), rand(b, seed + 1)), 0, 0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("maps (neg, abs, square, sqrt, relu): bit-equal", () => {
    fc.assert(
      fc.property(shape, fc.integer({ min: 1, max: 1e6 }), (s, seed) => {
        for (const op of [nb.neg, nb.abs, nb.square, nb.relu]) same(() => op(rand(s, seed)), 0, 0);
        same(() => nb.sqrt(nb.abs(rand(s, seed))), 0, 0);
      }),
      { numRuns: 40 },
    );
  });

  it("transcendental functions: within a few ulp", () => {
    fc.assert(
      fc.property(shape, fc.integer({ min: 1, max: 1e6 }), (s, seed) => {
        for (const op of [nb.exp, nb.expm1, nb.tanh, nb.sigmoid, nb.logSigmoid, nb.softplus, nb.erf, nb.gelu, nb.geluTanh, nb.silu]) {
          same(() => op(rand(s, seed, 6)), 4e-6, 1e-6);
        }
        same(() => nb.log(nb.add(nb.abs(rand(s, seed)), 1e-3)), 4e-6, 1e-6);
        same(() => nb.log1p(nb.abs(rand(s, seed))), 4e-6, 1e-6);
      }),
      { numRuns: 40 },
    );
  });

  it("reductions, logSumExp, softmax along every axis", () => {
    fc.assert(
      fc.property(shape, fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (s, seed, keepDims) => {
        for (let axis = 0; axis < s.length; axis++) {
          same(() => nb.sum(rand(s, seed), { axis, keepDims }), 1e-5, 1e-4);
          same(() => nb.mean(rand(s, seed), { axis }), 1e-5, 1e-5);
          if (s[axis]! > 0) {
            same(() => nb.max(rand(s, seed), { axis }), 0, 0);
            same(() => nb.argmax(rand(s, seed), axis), 0, 0);
          }
          same(() => nb.logSumExp(rand(s, seed), { axis }), 1e-5, 1e-5);
          same(() => nb.softmax(rand(s, seed), axis), 1e-5, 1e-6);
          same(() => nb.logSoftmax(rand(s, seed), axis), 1e-5, 1e-5);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("matmul on odd and large shapes", () => {
    fc.assert(
      fc.property(dim, dim, dim, fc.integer({ min: 1, max: 1e6 }), (m, k, n, seed) => {
        same(() => nb.matmul(rand([m, k], seed, 1), rand([k, n], seed + 1, 1)), 1e-5, 1e-5);
      }),
      { numRuns: 60 },
    );
    same(() => nb.matmul(rand([300, 513], 1, 1), rand([513, 129], 2, 1)), 1e-5, 1e-5);
  });
});
