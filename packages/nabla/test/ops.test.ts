// The differentiable ops from JavaScript: values, broadcasting, axes, and bad input.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { close, thrown } from "./helpers.js";

beforeAll(() => nb.init());

const t = (x: nb.NestedArray) => nb.tensor(x);

describe("elementwise", () => {
  it("arithmetic broadcasts like NumPy, numbers act as scalars", () => {
    const a = t([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(nb.add(a, t([10, 20, 30])).toArray()).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ]);
    expect(nb.sub(a, t([[1], [2]])).toArray()).toEqual([
      [0, 1, 2],
      [2, 3, 4],
    ]);
    expect(nb.mul(a, 2).toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
    expect(nb.div(1, t([2, 4])).toArray()).toEqual([0.5, 0.25]);
    expect(nb.pow(t([2, 3]), 2).toArray()).toEqual([4, 9]);
    expect(nb.maximum(t([1, 5, NaN]), t([3, 2, 0])).toArray()).toEqual([3, 5, NaN]);
    expect(nb.minimum(t([1, 5]), 2).toArray()).toEqual([1, 2]);
  });

  it("maps and transcendental functions", () => {
    const x = t([-2, -0.5, 0.5, 2]);
    expect(nb.neg(x).toArray()).toEqual([2, 0.5, -0.5, -2]);
    expect(nb.abs(x).toArray()).toEqual([2, 0.5, 0.5, 2]);
    expect(nb.square(x).toArray()).toEqual([4, 0.25, 0.25, 4]);
    expect(nb.relu(x).toArray()).toEqual([0, 0, 0.5, 2]);
    expect(nb.sqrt(t([4, 9])).toArray()).toEqual([2, 3]);
    const v = [-2, -0.5, 0.5, 2];
    const expectMap = (f: (x: nb.Tensor) => nb.Tensor, g: (x: number) => number, rtol = 2e-6) =>
      close(f(x).data(), v.map((z) => Math.fround(g(z))), rtol, 1e-7);
    expectMap(nb.exp, Math.exp);
    expectMap(nb.expm1, Math.expm1);
    expectMap(nb.tanh, Math.tanh);
    expectMap(nb.sigmoid, (z) => 1 / (1 + Math.exp(-z)));
    expectMap(nb.softplus, (z) => Math.log1p(Math.exp(z)));
    expectMap(nb.logSigmoid, (z) => -Math.log1p(Math.exp(-z)));
    expectMap(nb.silu, (z) => z / (1 + Math.exp(-z)));
    expectMap(nb.geluTanh, (z) => 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3))));
    close(nb.log(t([0.5, 2, 10])).data(), [Math.log(0.5), Math.log(2), Math.log(10)], 2e-6);
    close(nb.log1p(t([1e-7, 1])).data(), [Math.log1p(1e-7), Math.log(2)], 2e-6);
    // erf(0.5) and gelu(1) from tables.
    close(nb.erf(t([0.5])).data(), [0.5204998778130465], 2e-6);
    close(nb.gelu(t([1])).data(), [0.8413447460685429], 2e-6);
  });

  it("stable forms stay finite where the naive formula overflows", () => {
    const big = t([-1e4, 1e4]);
    expect(nb.softplus(big).toArray()).toEqual([0, 1e4]);
    expect(nb.logSigmoid(big).toArray()).toEqual([-1e4, 0]);
    expect(nb.sigmoid(big).toArray()).toEqual([0, 1]);
    expect(nb.tanh(big).toArray()).toEqual([-1, 1]);
    expect(nb.logSumExp(t([1e4, 1e4])).item()).toBeCloseTo(1e4 + Math.LN2, 2);
    close(nb.softmax(t([1e4, 1e4 - 1])).data(), [1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(1))], 1e-6);
  });

  it("clip and where", () => {
    expect(nb.clip(t([-2, 0.5, 3]), -1, 1).toArray()).toEqual([-1, 0.5, 1]);
    expect(nb.where(t([1, 0, 1]), t([1, 2, 3]), 0).toArray()).toEqual([1, 0, 3]);
    expect(nb.where(nb.tensor(Int32Array.of(0, 1)), 5, t([[1], [2]])).toArray()).toEqual([
      [1, 5],
      [2, 5],
    ]);
    expect(thrown(() => nb.clip(t([1]), 2, 1)).message).toBe("clip: invalid `min`: expected a number not above `max` (1), received 2");
  });

  it("shapes that do not broadcast throw a ShapeError naming both", () => {
    const e = thrown(() => nb.add(nb.zeros([2, 3]), nb.zeros([3, 2])));
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect(e.message).toBe("add: invalid `b`: expected a shape broadcastable with `a` (shape [2, 3]), received shape [3, 2]");
  });

  it("int32 tensors are refused by float ops", () => {
    const e = thrown(() => nb.exp(nb.tensor(Int32Array.of(1, 2))));
    expect(e).toBeInstanceOf(nb.ValueError);
    expect(e.code).toBe("DTYPE_MISMATCH");
    expect(e.message).toBe("exp: invalid `x`: expected a float32 tensor, received an int32 tensor");
  });
});

describe("reductions and softmax", () => {
  const x = () =>
    t([
      [1, 5, 3],
      [4, 2, 6],
    ]);

  it("sum, mean, max over axes with keepDims; argmax as int32", () => {
    expect(nb.sum(x()).item()).toBe(21);
    expect(nb.sum(x(), { axis: 0 }).toArray()).toEqual([5, 7, 9]);
    expect(nb.mean(x(), { axis: -1, keepDims: true }).toArray()).toEqual([[3], [4]]);
    expect(nb.max(x(), { axis: [0, 1] }).item()).toBe(6);
    const am = nb.argmax(x());
    expect(am.dtype).toBe("int32");
    expect(am.toArray()).toEqual([1, 2]);
    expect(Array.from(nb.argmax(x(), 0).dataInt32())).toEqual([1, 0, 1]);
  });

  it("softmax and logSoftmax along an axis sum to one", () => {
    const s = nb.softmax(x(), 0);
    close(nb.sum(s, { axis: 0 }).data(), [1, 1, 1], 1e-6);
    close(nb.exp(nb.logSoftmax(x())).data(), nb.softmax(x()).data(), 1e-6);
    close(nb.logSumExp(x(), { axis: 1 }).data(), [Math.log(Math.exp(1) + Math.exp(5) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(2) + Math.exp(6))], 1e-6);
  });

  it("axes out of range and duplicate axes are named", () => {
    expect(thrown(() => nb.sum(x(), { axis: 2 })).message).toBe("sum: invalid `axis`: expected an axis in [-2, 1] for a rank-2 tensor, received 2");
    expect(thrown(() => nb.softmax(x(), -3)).message).toBe("softmax: invalid `axis`: expected an axis in [-2, 1] for a rank-2 tensor, received -3");
    expect(thrown(() => nb.mean(x(), { axis: [1, -1] })).message).toBe("mean: invalid `axis`: expected distinct axes, received [1, -1]");
    expect(thrown(() => nb.sum(x(), { axis: 0.5 })).code).toBe("INVALID_ARGUMENT");
  });
});

describe("shape ops", () => {
  it("reshape with -1 and transpose with a permutation", () => {
    const x = nb.tensor(Float32Array.from({ length: 6 }, (_, i) => i), [2, 3]);
    expect(nb.reshape(x, [3, -1]).toArray()).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(nb.transpose(x).toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    const y = nb.reshape(x, [1, 2, 3]);
    expect(nb.transpose(y, [2, 0, 1]).shape).toEqual([3, 1, 2]);
    expect(thrown(() => nb.reshape(x, [4, -1])).message).toBe(
      "reshape: invalid `shape`: expected dimensions whose product divides 6, received [4, -1] for a tensor of shape [2, 3]",
    );
    expect(thrown(() => nb.transpose(x, [0, 0])).message).toBe("transpose: invalid `perm`: expected a permutation of 0..2, received [0, 0]");
  });
});

describe("random tensors", () => {
  it("the same seed gives the same values; the first values are pinned (portable PRNG)", () => {
    // Pinned: these numbers must come out of every runtime and every future build.
    expect(Array.from(nb.randn([4], { seed: 42 }).data())).toEqual([1.3281997442245483, 0.03325466439127922, -0.37070852518081665, -0.8508134484291077]);
    expect(Array.from(nb.randUniform([3], { seed: 42 }).data())).toEqual([0.4137016534805298, 0.9697872400283813, 0.003983974456787109]);
    const a = nb.randn([5], { seed: 42 }).data();
    const b = nb.randn([5], { seed: 42 }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(nb.randn([5], { seed: 43 }).data())).not.toEqual(Array.from(a));
    const u = nb.randUniform([1000], { seed: 1, min: -2, max: 3 }).data();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
  });

  it("moments are right", () => {
    const z = nb.randn([100_000], { seed: 7, mean: 1, stddev: 2 });
    expect(nb.mean(z).item()).toBeCloseTo(1, 1);
    expect(Math.sqrt(nb.mean(nb.square(nb.sub(z, 1))).item())).toBeCloseTo(2, 1);
  });

  it("bad seeds and parameters are named", () => {
    expect(thrown(() => nb.randn([2], { seed: NaN })).message).toBe("randn: invalid `seed`: expected an integer in [0, 2^53], received NaN");
    expect(thrown(() => nb.randn([2], { seed: 1.5 })).code).toBe("INVALID_ARGUMENT");
    expect(thrown(() => nb.randUniform([2], { min: 1, max: 1 })).arg).toBe("max");
    expect(thrown(() => nb.zeros([2, -1])).message).toBe("full: invalid `shape`: expected non-negative integer dimensions, received -1 at index 1 of [2, -1]");
  });
});
