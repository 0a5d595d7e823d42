// Convolution and pooling from JavaScript: values against a direct loop written here,
// SIMD against scalar twins in wasm, gradients against central differences, bad input.
import fc from "fast-check";
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { close, initReference, randomValues, thrown } from "./helpers.js";

// The test build: the conv and pooling kernels are held to their scalar twins below.
beforeAll(initReference);

/** Direct NHWC conv2d with TF "same"/"valid" padding, in f64. */
function convRef(x: Float32Array, [n, h, w, ci]: number[], f: Float32Array, [kh, kw, , co]: number[], s: number, same: boolean) {
  const oh = same ? Math.ceil(h / s) : Math.floor((h - kh) / s) + 1;
  const ow = same ? Math.ceil(w / s) : Math.floor((w - kw) / s) + 1;
  const pt = same ? Math.floor(Math.max((oh - 1) * s + kh - h, 0) / 2) : 0;
  const pl = same ? Math.floor(Math.max((ow - 1) * s + kw - w, 0) / 2) : 0;
  const y = new Float64Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < co; o++) {
          let acc = 0;
          for (let di = 0; di < kh; di++)
            for (let dj = 0; dj < kw; dj++) {
              const yi = i * s + di - pt;
              const xj = j * s + dj - pl;
              if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
              for (let c = 0; c < ci; c++) acc += x[((b * h + yi) * w + xj) * ci + c]! * f[((di * kw + dj) * ci + c) * co + o]!;
            }
          y[((b * oh + i) * ow + j) * co + o] = acc;
        }
  return { y, shape: [n, oh, ow, co] };
}

describe("conv2d", () => {
  it.each([
    [[2, 7, 6, 3], [3, 3, 3, 4], 1, true],
    [[1, 5, 5, 2], [3, 3, 2, 5], 2, true],
    [[3, 8, 9, 1], [2, 4, 1, 2], 2, false],
  ] as const)("input %j filter %j stride %i same=%s matches a direct loop", (xs, fs, s, same) => {
    const x = randomValues(xs.reduce((a: number, b: number) => a * b, 1), 1);
    const f = randomValues(fs.reduce((a: number, b: number) => a * b, 1), 2);
    const y = nb.conv2d(nb.tensor(x, [...xs]), nb.tensor(f, [...fs]), { strides: s, padding: same ? "same" : "valid" });
    const want = convRef(x, [...xs], f, [...fs], s, same);
    expect(y.shape).toEqual(want.shape);
    close(y.data(), want.y, 1e-5, 1e-5);
  });

  it("conv1d is conv2d with height 1", () => {
    const x = randomValues(2 * 9 * 3, 3);
    const f = randomValues(3 * 3 * 4, 4);
    const y1 = nb.conv1d(nb.tensor(x, [2, 9, 3]), nb.tensor(f, [3, 3, 4]), { stride: 2, padding: "same" });
    const y2 = nb.conv2d(nb.tensor(x, [2, 1, 9, 3]), nb.tensor(f, [1, 3, 3, 4]), { strides: [1, 2], padding: "same" });
    expect(y1.shape).toEqual([2, 5, 4]);
    close(y1.data(), y2.data(), 0, 0);
  });

  it("SIMD (im2col + GEMM) equals the scalar direct loops in wasm, forward and backward", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 3 }),
          h: fc.integer({ min: 3, max: 17 }),
          w: fc.integer({ min: 3, max: 17 }),
          ci: fc.constantFrom(1, 3, 4, 5, 8),
          co: fc.constantFrom(1, 4, 5, 16, 17),
          k: fc.integer({ min: 1, max: 3 }),
          s: fc.integer({ min: 1, max: 3 }),
          d: fc.integer({ min: 1, max: 2 }),
          same: fc.boolean(),
        }),
        ({ n, h, w, ci, co, k, s, d, same }) => {
          // "valid" needs the dilated window inside the input (else a ValueError, tested elsewhere).
          fc.pre(same || ((k - 1) * d + 1 <= h && (k - 1) * d + 1 <= w));
          nb.tidy(() => {
            const x = nb.tensor(randomValues(n * h * w * ci, h * 31 + w), [n, h, w, ci]);
            const f = nb.tensor(randomValues(k * k * ci * co, k * 7 + co), [k, k, ci, co]);
            const run = () => {
              const { value, grads } = nb.valueAndGrad((x, f) => nb.conv2d(x, f, { strides: s, dilationRate: d, padding: same ? "same" : "valid" }))(x, f);
              return [value, ...grads];
            };
            const simd = run();
            const ref = nb.reference(run);
            simd.forEach((t, i) => close(t.data(), ref[i]!.data(), 1e-4, 1e-4));
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("gradients match central differences", () => {
    const xs = [1, 5, 4, 2];
    const fs = [3, 2, 2, 3];
    const x = randomValues(40, 5);
    const f = randomValues(36, 6);
    const loss = (x: nb.Tensor, f: nb.Tensor) => nb.sum(nb.square(nb.conv2d(x, f, { strides: 2, padding: "same" })));
    const [gx, gf] = nb.grad(loss)(nb.tensor(x, xs), nb.tensor(f, fs));
    const numeric = (vals: Float32Array, which: 0 | 1) =>
      Float64Array.from(vals, (v, j) => {
        const eval_ = (d: number) => {
          const c = vals.slice();
          c[j] = v + d;
          return nb.tidy(() => (which === 0 ? loss(nb.tensor(c, xs), nb.tensor(f, fs)) : loss(nb.tensor(x, xs), nb.tensor(c, fs))).item());
        };
        return (eval_(1e-2) - eval_(-1e-2)) / 2e-2;
      });
    close(gx!.data(), numeric(x, 0), 1e-2, 2e-3);
    close(gf!.data(), numeric(f, 1), 1e-2, 2e-3);
  });

  it("bad shapes and options name the argument", () => {
    const x = nb.zeros([1, 5, 5, 3]);
    expect(thrown(() => nb.conv2d(x, nb.zeros([3, 3, 2, 4]))).message).toMatch(/^conv2d: invalid `filter`: expected .*3.*, received .*2/);
    expect(thrown(() => nb.conv2d(x, nb.zeros([7, 7, 3, 4]))).message).toBe(
      'conv2d: invalid `kernelSize`: expected at most 5 (the padded input height) with padding "valid", received 7',
    );
    expect(thrown(() => nb.conv2d(nb.zeros([5, 5, 3]), nb.zeros([3, 3, 3, 4]))).code).toBe("SHAPE_MISMATCH");
    expect(thrown(() => nb.conv2d(x, nb.zeros([3, 3, 3, 4]), { strides: 0 })).message).toBe(
      "conv2d: invalid `strides`: expected a positive integer or two, [height, width], received [0]",
    );
    expect(thrown(() => nb.conv2d(x, nb.zeros([3, 3, 3, 4]), { padding: "full" as never })).message).toBe(
      'conv2d: invalid `padding`: expected "valid", "same" or explicit sizes, received the string "full"',
    );
  });
});

describe("pooling", () => {
  const x = () => nb.tensor(Float32Array.from({ length: 16 }, (_, i) => (i * 7) % 16), [1, 4, 4, 1]);

  it("max and avg pooling with TF semantics", () => {
    // [[0,7,14,5],[12,3,10,1],[8,15,6,13],[4,11,2,9]]
    expect(nb.maxPool2d(x(), { poolSize: 2 }).toArray()).toEqual([[[[12], [14]], [[15], [13]]]]);
    expect(nb.avgPool2d(x(), { poolSize: 2 }).toArray()).toEqual([[[[5.5], [7.5]], [[9.5], [7.5]]]]);
    // same padding, stride 3: windows at the edge average only in-bounds elements
    expect(nb.avgPool2d(x(), { poolSize: 3, strides: 3, padding: "same" }).shape).toEqual([1, 2, 2, 1]);
    expect(nb.globalAvgPool2d(x()).toArray()).toEqual([[7.5]]);
    expect(nb.maxPool1d(nb.tensor([[[1], [3], [2], [0]]]), { poolSize: 2 }).toArray()).toEqual([[[3], [2]]]);
    expect(nb.globalAvgPool1d(nb.tensor([[[1, 2], [3, 4]]])).toArray()).toEqual([[2, 3]]);
  });

  it("the max-pool gradient goes to each window's maximum", () => {
    const [g] = nb.grad((x) => nb.sum(nb.maxPool2d(x, { poolSize: 2 })))(x());
    expect(Array.from(g!.data())).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
  });

  it("SIMD equals the scalar twin in wasm", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 3, 4, 5, 17), fc.integer({ min: 1, max: 3 }), (h, w, c, p) => {
        nb.tidy(() => {
          const t = nb.tensor(randomValues(2 * h * w * c, h * w + c), [2, h, w, c]);
          for (const op of [nb.maxPool2d, nb.avgPool2d]) {
            const run = () => {
              const { value, grads } = nb.valueAndGrad((t) => op(t, { poolSize: p, padding: "same" }))(t);
              return [value, grads[0]!];
            };
            const simd = run();
            const ref = nb.reference(run);
            simd.forEach((s, i) => close(s.data(), ref[i]!.data(), 0, 0));
          }
        });
      }),
      { numRuns: 40 },
    );
  });

  it("poolSize is required and checked", () => {
    expect(thrown(() => nb.maxPool2d(x(), {} as never)).message).toBe(
      "maxPool2d: invalid `poolSize`: expected a positive integer or two, [height, width], received [NaN]",
    );
  });
});
