// The loss API from JavaScript: the catalogue matches the core's, configs round-trip,
// reductions and sample weights, losses inside nb.grad, the advisor, and bad input.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { close, thrown } from "./helpers.js";

beforeAll(() => nb.init());

describe("the catalogue", () => {
  it("the TypeScript catalogue, its factories and the Rust catalogue name the same losses with the same inputs", () => {
    const core = nb.losses.coreCatalogue();
    const ts = nb.losses.CATALOGUE;
    expect(Object.keys(ts).sort()).toEqual(core.map((e) => e.name).sort());
    for (const entry of core) {
      expect(entry.implemented, `${entry.name} is implemented`).toBe(true);
      expect(ts[entry.name]!.inputs, entry.name).toEqual(entry.inputs);
      expect(typeof (nb.losses as unknown as Record<string, unknown>)[entry.name], `nb.losses.${entry.name}`).toBe("function");
    }
  });
});

describe("a Loss", () => {
  const logits = [
    [2, 1, 0.1],
    [0.5, 2.5, -1],
  ];

  it("is callable, has a name and a config that round-trips", () => {
    const ce = nb.losses.crossEntropy({ fromLogits: true, labelSmoothing: 0.1 });
    expect(ce.name).toBe("crossEntropy");
    expect(ce.config).toEqual({ reduction: "mean", fromLogits: true, labelSmoothing: 0.1 });
    const again = nb.losses.fromConfig(JSON.parse(JSON.stringify(ce)));
    expect(again([0, 1], logits)).toBe(ce([0, 1], logits));
    expect(again.config).toEqual(ce.config);
  });

  it("takes integer labels as Int32Array or integer arrays, and one-hot targets", () => {
    const ce = nb.losses.crossEntropy({ fromLogits: true });
    const a = ce(Int32Array.of(0, 1), logits) as number;
    expect(ce([0, 1], logits)).toBe(a);
    close([ce([[1, 0, 0], [0, 1, 0]], logits) as number], [a], 1e-6);
    // -log softmax, by hand
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    close([a], [((lse(logits[0]!) - 2) + (lse(logits[1]!) - 2.5)) / 2], 1e-6);
  });

  it("reduction none gives a tensor of per-unit values; sum and sampleWeight follow Keras", () => {
    const mse = nb.losses.mse({ reduction: "none" });
    const per = mse([[1, 2], [3, 4]], [[1, 3], [5, 4]]) as nb.Tensor;
    expect(per.toArray()).toEqual([[0, 1], [4, 0]]);
    expect(nb.losses.mse({ reduction: "sum" })([[1, 2], [3, 4]], [[1, 3], [5, 4]])).toBe(5);
    // weights per sample multiply each row; the mean still divides by the 4 elements
    expect(nb.losses.mse()([[1, 2], [3, 4]], [[1, 3], [5, 4]], { sampleWeight: [2, 0.5] })).toBe((2 * 1 + 0.5 * 4) / 4);
  });

  it("grad is d loss / d yPred, and loss.tensor works inside nb.grad", () => {
    const ce = nb.losses.crossEntropy({ fromLogits: true });
    const x = nb.tensor(logits);
    const g = ce.grad([0, 1], x) as nb.Tensor;
    const [viaTape] = nb.grad((x) => ce.tensor([0, 1], x))(x);
    close(viaTape!.data(), g.data(), 1e-6, 1e-7);
    // softmax - onehot, over the batch of 2
    const p = nb.softmax(x).toArray() as number[][];
    close(g.data(), [(p[0]![0]! - 1) / 2, p[0]![1]! / 2, p[0]![2]! / 2, p[1]![0]! / 2, (p[1]![1]! - 1) / 2, p[1]![2]! / 2], 1e-5, 1e-7);
  });

  it("the seed's formulas hold: MSE is the mean of squared differences", () => {
    expect(nb.losses.mse()([1, 2, 3], [1.5, 2, 2])).toBeCloseTo((0.25 + 0 + 1) / 3, 7);
  });
});

describe("bad input", () => {
  it("options are checked when the loss is made, not at the first step", () => {
    expect(thrown(() => nb.losses.crossEntropy({ labelSmoothing: 1.5 })).message).toBe(
      "crossEntropy: invalid `labelSmoothing`: expected a number in [0, 1), received 1.5",
    );
    expect(thrown(() => nb.losses.mse({ reduction: "batchmean" })).message).toBe(
      'mse: invalid `reduction`: expected one of "mean", "sum", "none", received "batchmean"',
    );
    expect(thrown(() => nb.losses.crossEntropy({ fromLogit: true } as never)).message).toMatch(/^crossEntropy: invalid `config`: expected options among .*, received unknown option `fromLogit`$/);
    expect(thrown(() => nb.losses.fromConfig({ name: "nope" })).message).toBe(
      'losses.fromConfig: invalid `name`: expected the name of a loss in nb.losses, received the string "nope"',
    );
  });

  it("shapes, labels and probabilities are checked with the argument named", () => {
    const ce = nb.losses.crossEntropy();
    expect(thrown(() => ce([0, 3], [[0.5, 0.5], [0.2, 0.8]])).message).toBe(
      "crossEntropy: invalid `yTrue`: expected class indices in [0, 2) or ignoreIndex -100, received 3 at index 1",
    );
    const e = thrown(() => ce([0, 1], [[2, -1], [0.3, 0.7]]));
    expect(e.arg).toBe("yPred");
    expect(e.message).toContain("pass fromLogits: true");
    expect(thrown(() => nb.losses.mse()([1, 2, 3], [1, 2])).code).toBe("SHAPE_MISMATCH");
    expect(thrown(() => nb.losses.mse()([1, 2])).message).toBe("mse: invalid `arguments`: expected 2 tensors (yTrue, yPred), received 1");
    expect(thrown(() => nb.losses.mse()([1, 2], [1, 2], { sampleWeight: [1, 2, 3] })).arg).toBe("sampleWeight");
  });
});

describe("nb.losses.advise", () => {
  it("recommends a loss that builds, with its reasons", () => {
    const a = nb.losses.advise({ task: "multiclass", output: "logits", network: "cnn" });
    expect(a.loss).toBe("crossEntropy");
    expect(a.config).toEqual({ fromLogits: true });
    expect(a.reasons.length).toBeGreaterThan(1);
    const loss = nb.losses.fromConfig({ name: a.loss, config: a.config });
    expect(typeof loss([0], [[1, 2]])).toBe("number");
    expect(nb.losses.advise({ task: "regression", outliers: true }).loss).toBe("huber");
    expect(nb.losses.advise({ task: "binary", output: "probabilities" }).config).toEqual({ fromLogits: false });
  });

  it("names a bad question", () => {
    expect(thrown(() => nb.losses.advise({ task: "clustering" as never })).arg).toBe("task");
  });
});
