// Optimizers from JavaScript: a training loop with nb.grad and an optimizer reaches a
// known minimum; torch's trajectories are checked in the core's fixture test.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { thrown } from "./helpers.js";

beforeAll(() => nb.init());

describe("nb.optim", () => {
  it.each([
    ["sgd", () => nb.optim.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
    ["adam", () => nb.optim.adam({ learningRate: 0.1 })],
    ["adamW", () => nb.optim.adamW({ learningRate: 0.1, weightDecay: 0 })],
    ["rmsprop", () => nb.optim.rmsprop({ learningRate: 0.05, centered: true })],
    ["adagrad", () => nb.optim.adagrad({ learningRate: 0.5 })],
  ])("%s minimizes a least-squares problem", (_, make) => {
    // min ||A w - b||² has the solution w* = [1, -2, 3].
    const a = nb.randn([32, 3], { seed: 1 });
    const wStar = nb.tensor([[1], [-2], [3]]);
    const b = nb.matmul(a, wStar);
    const w = nb.zeros([3, 1]);
    const opt = make();
    const loss = (w: nb.Tensor) => nb.mean(nb.square(nb.sub(nb.matmul(a, w), b)));
    for (let i = 0; i < 300; i++) {
      nb.tidy(() => {
        const [g] = nb.grad(loss)(w);
        opt.step([w], [g!]);
      });
    }
    expect(opt.iterations).toBe(300);
    const got = w.data();
    [1, -2, 3].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 1));
  });

  it("schedules change the learning rate step by step", () => {
    const opt = nb.optim.sgd({ learningRate: 1, schedule: { type: "step", stepSize: 2, gamma: 0.5 } });
    const p = nb.zeros([1]);
    const rates: number[] = [];
    for (let i = 0; i < 5; i++) {
      rates.push(opt.learningRate);
      opt.step([p], [nb.ones([1])]);
    }
    expect(rates).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(p.data()[0]).toBeCloseTo(-3.25, 6);
  });

  it("bad configs and arguments are named; a failed step changes nothing", () => {
    expect(thrown(() => nb.optim.adam({ learningRate: -1 })).message).toBe("adam: invalid `learningRate`: expected a finite number ≥ 0, received -1");
    expect(thrown(() => nb.optim.adam({ beta1: 1 })).arg).toBe("beta1");
    expect(thrown(() => nb.optim.sgd({ nesterov: true })).arg).toBe("nesterov");
    const opt = nb.optim.sgd({ learningRate: 0.1 });
    const p = nb.ones([3]);
    const e = thrown(() => opt.step([p], [nb.ones([2])]));
    expect(e).toBeInstanceOf(nb.ShapeError);
    expect(e.message).toBe("sgd: invalid `grads[0]`: expected 3 values, as params[0], received 2");
    expect(Array.from(p.data())).toEqual([1, 1, 1]);
    expect(opt.iterations).toBe(0);
  });
});
