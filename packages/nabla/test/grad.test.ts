// Autograd from JavaScript: gradients computed in wasm against known derivatives and
// against central differences of the same function evaluated by nabla itself.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { close, randomValues, thrown } from "./helpers.js";

beforeAll(() => nb.init());

/** Central differences of sum(f(x)) with respect to every element of every arg, in f64. */
function numericGrad(f: (...xs: nb.Tensor[]) => nb.Tensor, args: Float32Array[], shapes: number[][], h = 1e-2): Float64Array[] {
  const value = (vals: Float32Array[]) =>
    nb.tidy(() => {
      const y = f(...vals.map((v, i) => nb.tensor(v, shapes[i])));
      return y.data().reduce((s, x) => s + x, 0);
    });
  return args.map((a, i) =>
    Float64Array.from(a, (x, j) => {
      const plus = args.map((v) => v.slice());
      const minus = args.map((v) => v.slice());
      plus[i]![j] = x + h;
      minus[i]![j] = x - h;
      return (value(plus) - value(minus)) / (Math.fround(x + h) - Math.fround(x - h));
    }),
  );
}

describe("nb.grad", () => {
  it("d/dx sum(x²) = 2x, and a value used twice accumulates", () => {
    const x = nb.tensor([1, -2, 3]);
    const [g] = nb.grad((x) => nb.sum(nb.square(x)))(x);
    expect(g!.toArray()).toEqual([2, -4, 6]);
    const [g2] = nb.grad((x) => nb.add(nb.mul(x, x), x))(x);
    expect(g2!.toArray()).toEqual([3, -3, 7]);
  });

  it("valueAndGrad returns the value too; an unused argument gets zeros", () => {
    const { value, grads } = nb.valueAndGrad((a, b) => nb.sum(nb.mul(a, 3)))(nb.tensor([1, 2]), nb.tensor([[5, 6]]));
    expect(value.item()).toBe(9);
    expect(grads.map((g) => g.toArray())).toEqual([[3, 3], [[0, 0]]]);
  });

  it("a small classifier's loss matches central differences", () => {
    // loss = -mean(logSoftmax(relu(x·W1)·W2 + b)[labels]) written with one-hot masks.
    const x = randomValues(4 * 5, 1);
    const w1 = randomValues(5 * 6, 2);
    const w2 = randomValues(6 * 3, 3);
    const b = randomValues(3, 4);
    const onehot = nb.tensor([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [0, 1, 0],
    ]);
    const f = (w1: nb.Tensor, w2: nb.Tensor, b: nb.Tensor) => {
      const h = nb.tanh(nb.matmul(nb.tensor(x, [4, 5]), w1));
      const logits = nb.add(nb.matmul(h, w2), b);
      return nb.neg(nb.mean(nb.sum(nb.mul(nb.logSoftmax(logits), onehot), { axis: 1 })));
    };
    const shapes = [[5, 6], [6, 3], [3]];
    const grads = nb.grad(f)(nb.tensor(w1, shapes[0]), nb.tensor(w2, shapes[1]), nb.tensor(b, shapes[2]));
    const numeric = numericGrad(f, [w1, w2, b], shapes);
    grads.forEach((g, i) => close(g.data(), numeric[i]!, 1e-2, 2e-3));
  });

  it("gradients flow through every op family", () => {
    const x = randomValues(12, 9);
    const shapes = [[3, 4]];
    const f = (x: nb.Tensor) =>
      nb.sum(
        nb.add(
          nb.mul(nb.softmax(x, 0), nb.sigmoid(nb.transpose(nb.reshape(nb.transpose(x), [4, 3])))),
          nb.div(nb.logSumExp(x, { axis: 1, keepDims: true }), nb.add(nb.max(nb.abs(x), { axis: 0 }), 1)),
        ),
      );
    const [g] = nb.grad(f)(nb.tensor(x, shapes[0]));
    close(g!.data(), numericGrad(f, [x], shapes, 5e-3)[0]!, 2e-2, 2e-3);
  });

  it("an error inside f leaves no tape behind; nested grad is refused", () => {
    const x = nb.tensor([1, 2]);
    const e = thrown(() => nb.grad((x) => nb.add(x, nb.zeros([3])))(x));
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect(nb.grad((x) => nb.sum(x))(x)[0]!.toArray()).toEqual([1, 1]);
    const nested = thrown(() => nb.grad((x) => nb.sum(nb.grad((y) => nb.sum(y))(x)[0]!))(x));
    expect(nested).toBeInstanceOf(nb.StateError);
    expect(nested.code).toBe("INVALID_STATE");
    expect(nb.grad((x) => nb.sum(nb.exp(x)))(x)[0]!.shape).toEqual([2]);
  });

  it("argmax's int32 output is a constant to the tape: where() takes it as a condition", () => {
    const x = nb.tensor([[1, 3, 2]]);
    const [g] = nb.grad((x) => nb.sum(nb.mul(x, nb.where(nb.tensor(Int32Array.of(0, 1, 0)), 2, 1))))(x);
    expect(g!.toArray()).toEqual([[1, 2, 1]]);
    const [g2] = nb.grad((x) => nb.sum(nb.where(nb.reshape(nb.argmax(x), [1, 1]), x, 0)))(x);
    expect(g2!.toArray()).toEqual([[1, 1, 1]]);
  });

  it("f must return a tensor; args must be tensors", () => {
    expect(thrown(() => nb.grad(() => 3 as never)(nb.tensor([1]))).message).toBe(
      "grad: invalid `f`: expected a function returning a Tensor, received one returning number 3",
    );
    expect(thrown(() => nb.grad((x) => x)([1] as never)).message).toBe("grad: invalid `args[0]`: expected a Tensor, received an array of length 1");
  });

  it("intermediates are freed; only the value and gradients remain", () => {
    const x = nb.randn([10, 10], { seed: 1 });
    const before = nb.memory().tensors;
    const { value, grads } = nb.valueAndGrad((x) => nb.mean(nb.tanh(nb.matmul(x, x))))(x);
    expect(nb.memory().tensors).toBe(before + 2);
    nb.dispose([value, grads]);
    expect(nb.memory().tensors).toBe(before);
  });
});
