// nb.sequential from JavaScript: compile, fit (async, yielding, abortable), evaluate,
// predict, summary, weights, determinism, and errors that name the layer.
import * as nb from "nabla";
import { beforeAll, describe, expect, it } from "vitest";
import { randomValues, thrown } from "./helpers.js";

beforeAll(() => nb.init());

/** Three Gaussian blobs in 4-D: x [n, 4], integer labels [n]. */
function blobs(n: number, seed: number) {
  const noise = randomValues(n * 4, seed, 0.7);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = noise[i * 4 + j]! + (j === y[i] ? 2 : 0);
  }
  return { x: nb.tensor(x, [n, 4]), y: nb.tensor(y) };
}

function mlp(seed = 1) {
  const m = nb.sequential([nb.layers.dense({ units: 16, activation: "relu" }), nb.layers.dense({ units: 3 })], { inputShape: [4], seed });
  m.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 0.01 }), metrics: ["accuracy"] });
  return m;
}

describe("Sequential", () => {
  it("fits: the loss falls, validation is reported, accuracy is high", async () => {
    const { x, y } = blobs(300, 1);
    const m = mlp();
    const epochs: number[] = [];
    const h = await m.fit(x, y, { epochs: 8, batchSize: 32, validationSplit: 0.2, callbacks: { onEpochEnd: (e) => void epochs.push(e) } });
    expect(h.epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(epochs).toEqual(h.epoch);
    expect(h.history.loss[7]!).toBeLessThan(0.5 * h.history.loss[0]!);
    expect(h.history.valLoss).toHaveLength(8);
    expect(h.history.accuracy![7]!).toBeGreaterThan(0.85);
    expect(h.history.valAccuracy![7]!).toBeGreaterThan(0.85);
    const pred = m.predict(x);
    expect(pred.shape).toEqual([300, 3]);
    const labels = nb.argmax(pred).dataInt32();
    const truth = y.dataInt32();
    const acc = labels.reduce((s, l, i) => s + (l === truth[i] ? 1 : 0), 0) / 300;
    expect(acc).toBeGreaterThan(0.9);
    const ev = m.evaluate(x, y);
    expect(ev.loss).toBeLessThan(h.history.loss[0]!);
    expect(ev.accuracy).toBeCloseTo(acc, 6);
  });

  it("the same seed gives bit-identical weights after training", async () => {
    const { x, y } = blobs(100, 2);
    const run = async () => {
      const m = mlp(7);
      await m.fit(x, y, { epochs: 2, batchSize: 16 });
      return m.getWeights().map((w) => Array.from(w.data()));
    };
    expect(await run()).toEqual(await run());
  });

  it("fit yields to the event loop: a timer fires while it trains", async () => {
    const { x, y } = blobs(2000, 3);
    const m = nb.sequential([nb.layers.dense({ units: 256, activation: "relu" }), nb.layers.dense({ units: 3 })], { inputShape: [4] });
    m.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: "sgd" });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await m.fit(x, y, { epochs: 3, batchSize: 8 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it("an AbortSignal stops between steps and keeps the last step's weights", async () => {
    const { x, y } = blobs(200, 4);
    const m = mlp();
    const controller = new AbortController();
    const h = await m.fit(x, y, { epochs: 50, batchSize: 10, callbacks: { onBatchEnd: (b) => void (b === 3 && controller.abort()) }, signal: controller.signal });
    expect(h.epoch.length).toBe(0);
    expect(m.getWeights().length).toBe(4);
  });

  it("save and loadModel: identical predictions, and training resumes bit-identically", async () => {
    // Dropout and shuffling included: their generators are saved with the model.
    const { x, y } = blobs(64, 6);
    const make = () => {
      const m = nb.sequential([nb.layers.dense({ units: 16, activation: "relu" }), nb.layers.dropout({ rate: 0.3 }), nb.layers.dense({ units: 3 })], { inputShape: [4], seed: 3 });
      m.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 0.01 }) });
      return m;
    };
    const straight = make();
    await straight.fit(x, y, { epochs: 3, batchSize: 16 });
    const first = make();
    await first.fit(x, y, { epochs: 1, batchSize: 16 });
    const bytes = first.save();
    const resumed = nb.loadModel(bytes);
    expect(Array.from(resumed.predict(x).data())).toEqual(Array.from(first.predict(x).data()));
    await resumed.fit(x, y, { epochs: 2, batchSize: 16 });
    expect(resumed.getWeights().map((w) => Array.from(w.data()))).toEqual(straight.getWeights().map((w) => Array.from(w.data())));
    const bad = bytes.slice(0, 20);
    expect(thrown(() => nb.loadModel(bad)).message).toMatch(/^loadModel: invalid `bytes`: expected a nabla model in the safetensors format/);
  });

  it("save({ optimizer: false }): an MNIST-sized MLP without Adam's moments, predicting the same and training on", async () => {
    const n = 64;
    const x = nb.tensor(randomValues(n * 784, 11, 1), [n, 784]);
    const y = nb.tensor(Int32Array.from({ length: n }, (_, i) => i % 10));
    const make = () => {
      const m = nb.sequential([nb.layers.dense({ units: 128, activation: "relu" }), nb.layers.dense({ units: 10 })], { inputShape: [784], seed: 2 });
      m.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 0.001 }) });
      return m;
    };
    const model = make();
    await model.fit(x, y, { epochs: 1, batchSize: 32 });
    const full = model.save();
    const light = model.save({ optimizer: false });
    expect(model.save({ optimizer: true })).toEqual(full);
    expect(full.byteLength / light.byteLength).toBeGreaterThan(2.5);
    const loaded = nb.loadModel(light);
    expect(Array.from(loaded.predict(x).data())).toEqual(Array.from(model.predict(x).data()));
    expect(loaded.evaluate(x, y)).toEqual(model.evaluate(x, y));
    // Compiled again with a fresh Adam: it trains as a new model given these weights does.
    const fresh = make();
    fresh.setWeights(model.getWeights());
    await loaded.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false });
    await fresh.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false });
    expect(loaded.getWeights().map((w) => Array.from(w.data()))).toEqual(fresh.getWeights().map((w) => Array.from(w.data())));
    for (const bad of [{ optimizer: "no" }, { optimizer: 0 }, null, "light"]) {
      const e = thrown(() => model.save(bad as never));
      expect(e).toBeInstanceOf(nb.ValueError);
      expect(e.message).toMatch(/^save: invalid `options(\.optimizer)?`: expected /);
    }
    expect(thrown(() => model.save({ optimizer: "no" } as never)).message).toBe("save: invalid `options.optimizer`: expected true or false, received the string \"no\"");
  });

  it("compile warns, naming the fix, when the loss does not fit the model's output", () => {
    const head = (activation?: "softmax") => nb.sequential([nb.layers.dense({ units: 3, ...(activation ? { activation } : {}) })], { inputShape: [4] });
    expect(head().compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: "adam" })).toEqual([]);
    const [w1] = head("softmax").compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: "adam", silent: true });
    expect(w1).toMatch(/ends in softmax .* remove the final activation/);
    const [w2] = head().compile({ loss: nb.losses.crossEntropy(), optimizer: "adam", silent: true });
    expect(w2).toMatch(/outputs logits .* pass fromLogits: true/);
    const [w3] = head("softmax").compile({ loss: "mse", optimizer: "adam", silent: true });
    expect(w3).toMatch(/^mse: .* use crossEntropy/);
  });

  it("validationData is evaluated each epoch", async () => {
    const { x, y } = blobs(90, 12);
    const v = blobs(30, 13);
    const h = await mlp().fit(x, y, { epochs: 2, validationData: [v.x, v.y] });
    expect(h.history.valLoss).toHaveLength(2);
    expect(h.history.valAccuracy).toHaveLength(2);
  });

  it("summary, getWeights, setWeights, trainOnBatch", () => {
    const m = mlp();
    expect(m.summary()).toContain("dense");
    expect(m.summary()).toContain("total params: 131");
    const w = m.getWeights();
    expect(w.map((t) => t.shape)).toEqual([[4, 16], [16], [16, 3], [3]]);
    const zeros = w.map((t) => nb.zeros([...t.shape]));
    m.setWeights(zeros);
    expect(Array.from(m.predict([[1, 2, 3, 4]]).data())).toEqual([0, 0, 0]);
    const { x, y } = blobs(30, 5);
    expect(m.trainOnBatch(x, y)).toBeCloseTo(Math.log(3), 5);
    expect(thrown(() => m.setWeights(zeros.slice(1))).arg).toBe("weights");
  });

  it("errors name the layer, the argument, expected and received", async () => {
    const e = thrown(() => nb.sequential([nb.layers.dense({ units: 4 }), nb.layers.conv2d({ filters: 2, kernelSize: 3 })], { inputShape: [5] }));
    expect(e.message).toBe(
      "conv2d: invalid `layers[1] (conv2d): input`: expected a shape [batch, height, width, channels] with positive sizes, received per-sample shape [4]",
    );
    const m = mlp();
    expect(thrown(() => m.predict(nb.zeros([2, 5]))).message).toBe("sequential: invalid `x`: expected shape [batch, 4] (the model's inputShape), received shape [2, 5]");
    const un = nb.sequential([nb.layers.dense({ units: 1 })], { inputShape: [2] });
    expect(thrown(() => un.trainOnBatch([[1, 2]], [[1]])).code).toBe("INVALID_STATE");
    await expect(m.fit(nb.zeros([4, 4]), nb.tensor(Int32Array.of(0, 1, 2)))).rejects.toThrow(/fit: invalid `y`: expected 4 samples/);
    expect(thrown(() => m.compile({ loss: "nope", optimizer: "adam" })).arg).toBe("name");
  });

  it("earlyStopping stops and restores the best weights; reduceLROnPlateau lowers the rate", async () => {
    const { x, y } = blobs(120, 8);
    const m = mlp();
    let bestWeights: number[][] = [];
    // minDelta 10: no later epoch counts as an improvement, so the first one stays best.
    const h = await m.fit(x, y, {
      epochs: 40,
      batchSize: 20,
      validationSplit: 0.25,
      callbacks: [
        { onEpochEnd: (e, _logs, model) => void (e === 0 && (bestWeights = model.getWeights().map((w) => Array.from(w.data())))) },
        nb.callbacks.earlyStopping({ patience: 2, minDelta: 10, restoreBestWeights: true }),
      ],
    });
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(m.getWeights().map((w) => Array.from(w.data()))).toEqual(bestWeights);
    const m2 = mlp();
    const lr = m2.learningRate;
    await m2.fit(x, y, { epochs: 6, batchSize: 40, callbacks: [nb.callbacks.reduceLROnPlateau({ monitor: "loss", patience: 0, minDelta: 10, factor: 0.5 })] });
    expect(m2.learningRate).toBeLessThan(lr);
    expect(() => nb.callbacks.reduceLROnPlateau({ factor: 2 })).toThrow(nb.ValueError);
  });

  it("sampleWeight and classWeight weigh the loss", async () => {
    const { x, y } = blobs(60, 9);
    const a = mlp(5);
    const b = mlp(5);
    const zeroForClass2 = await a.fit(x, y, { epochs: 1, batchSize: 60, shuffle: false, classWeight: { 2: 0 } });
    const viaSamples = await b.fit(x, y, { epochs: 1, batchSize: 60, shuffle: false, sampleWeight: Float32Array.from(y.dataInt32(), (c) => (c === 2 ? 0 : 1)) });
    expect(zeroForClass2.history.loss[0]).toBeCloseTo(viaSamples.history.loss[0]!, 6);
    await expect(a.fit(x, y, { classWeight: [1, 1] })).rejects.toThrow("fit: invalid `classWeight`: expected a weight for class 2 (the label of sample 2), received 2 weights");
    await expect(a.fit(x, y, { sampleWeight: [1, 2] })).rejects.toThrow(/^fit: invalid `sampleWeight`: expected shape \[60\]/);
  });

  it("a diverging run stops with a NumericError naming the step and the layer; weights stay finite", async () => {
    const { x, y } = blobs(64, 10);
    const m = nb.sequential([nb.layers.dense({ units: 8, activation: "relu" }), nb.layers.dense({ units: 3 })], { inputShape: [4], seed: 1 });
    m.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.sgd({ learningRate: 1e30 }) });
    const err = await m.fit(x, y, { epochs: 5, batchSize: 8 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(nb.NumericError);
    expect((err as nb.NablaError).code).toBe("NON_FINITE");
    expect((err as Error).message).toMatch(/^fit: expected (finite gradients|a finite loss) \(step \d+\), received .*layers\[\d\] \(dense\)/);
    for (const w of m.getWeights()) expect(Array.from(w.data()).every(Number.isFinite)).toBe(true);
  });

  it("memory stays flat over 1,000 training steps", async () => {
    const { x, y } = blobs(64, 11);
    const m = mlp();
    await m.fit(x, y, { epochs: 20, batchSize: 16 });
    const before = nb.memory();
    await m.fit(x, y, { epochs: 250, batchSize: 16 });
    const after = nb.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.wasmBytes).toBe(before.wasmBytes);
  });
});
