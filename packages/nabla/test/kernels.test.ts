// The SIMD128 kernels against their scalar reference twins, in real wasm (the test
// build, helpers.initReference): every op runs once normally and once inside
// nb.reference(), on random shapes that include the odd sizes where vector tails and
// edges go wrong.
import fc from "fast-check";
import * as nb from "nabla";
import { beforeAll, describe, it } from "vitest";
import { close, initReference, randomValues } from "./helpers.js";

beforeAll(initReference);

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

  it("recurrent layers (nb.layer lstm, gru): outputs, states and every gradient", () => {
    for (const kind of ["lstm", "gru"] as const) {
      const l = nb.layer(nb.layers[kind]({ units: 7, returnSequences: true, returnState: true }), { inputShape: [null, 5], seed: 3 });
      const x = nb.randn([3, 6, 5], { seed: 4 });
      const init = l.stateNames.map((_, i) => nb.randn([3, 7], { seed: 10 + i }));
      const run = () =>
        nb.tidy(() => {
          const f = (x: nb.Tensor, ...s: nb.Tensor[]) =>
            (l.apply(x, { initialState: s.slice(0, init.length) }) as nb.Tensor[]).reduce((acc, t) => nb.add(acc, nb.sum(nb.square(t))), nb.zeros([]));
          const { value, grads } = nb.valueAndGrad(f)(x, ...init, ...l.weights);
          return [value, ...grads].map((t) => Array.from(t.data()));
        });
      const simd = run();
      const scalar = nb.reference(run);
      simd.forEach((v, i) => close(v, scalar[i]!, 1e-4, 1e-5));
      nb.dispose([x, init]);
      l.dispose();
    }
  });
});
