// A TypeScript user's program, type-checked against the published .d.ts with `strict`
// (test/types/types.test.ts compiles it in a fresh project that installed the packed
// package). The `@ts-expect-error` lines prove the types catch mistakes: each fails the
// build if the line it marks compiles.
import * as nb from "nabla";

export async function train(signal: AbortSignal): Promise<{ accuracy: number; bytes: Uint8Array }> {
  await nb.init();
  const info: nb.Info = nb.info();
  const simd: boolean = info.simd;

  // Tensors and ops.
  const x: nb.Tensor = nb.randn([64, 8], { seed: 1 });
  const labels = nb.tensor(Int32Array.from({ length: 64 }, (_, i) => i % 3));
  const shape: readonly number[] = x.shape;
  const values: Float32Array | Int32Array = x.data();
  const mean: number = nb.mean(x).item();
  const w = nb.randn([8, 3], { seed: 2, stddev: 0.1 });
  const logits = nb.matmul(x, w);

  // Losses: the reduction decides the return type.
  const ce = nb.losses.crossEntropy({ fromLogits: true, labelSmoothing: 0.1 });
  const value: number = ce(labels, logits);
  const perSample: nb.Tensor = nb.losses.crossEntropy({ fromLogits: true, reduction: "none" })(labels, logits);
  const g: nb.Tensor = ce.grad(labels, logits);
  const [ga, gp, gn]: nb.Tensor[] = nb.losses.tripletMargin({ margin: 1 }).grad(x, x, x);
  const focal: nb.Loss<number> = nb.losses.focal({ gamma: 2, alpha: null, fromLogits: true });
  const advice: nb.Advice = nb.losses.advise({ task: "regression", outliers: true });
  const rebuilt: nb.Loss = nb.losses.fromConfig({ name: advice.loss, config: advice.config });
  // @ts-expect-error -- a misspelled option
  nb.losses.crossEntropy({ fromLogit: true });
  // @ts-expect-error -- an option of another loss
  nb.losses.mse({ delta: 1 });
  // @ts-expect-error -- not a reduction
  nb.losses.huber({ reduction: "avg" });
  // @ts-expect-error -- "none" gives a Tensor, not a number
  const wrong: number = nb.losses.mae({ reduction: "none" })(x, x);

  // Autograd.
  const { value: v, grads: [gw] } = nb.valueAndGrad((w: nb.Tensor) => ce.tensor(labels, nb.matmul(x, w)))(w);
  const lossValue: number = v.item();
  nb.tidy(() => nb.add(x, 1));
  {
    using t = nb.ones([3]);
    t.shape;
  }

  // A model.
  const model = nb.sequential(
    [
      nb.layers.dense({ units: 16, activation: "relu", kernelInitializer: "heNormal" }),
      nb.layers.dropout({ rate: 0.1, seed: 3 }),
      nb.layers.dense({ units: 3 }),
    ],
    { inputShape: [8], seed: 42 },
  );
  // @ts-expect-error -- units is a number
  nb.layers.dense({ units: "16" });
  const warnings: string[] = model.compile({
    loss: nb.losses.crossEntropy({ fromLogits: true }),
    optimizer: nb.optim.adam({ learningRate: 1e-2, schedule: { type: "cosine", tMax: 100 } }),
    metrics: ["accuracy"],
  });
  const history: nb.History = await model.fit(x, labels, {
    epochs: 3,
    batchSize: 16,
    validationSplit: 0.25,
    signal,
    verbose: 0,
    callbacks: [
      nb.callbacks.earlyStopping({ patience: 2, restoreBestWeights: true }),
      { onEpochEnd: (epoch: number, logs: nb.EpochLogs) => void (logs.loss + epoch) },
    ],
  });
  // @ts-expect-error -- epochs is a number
  await model.fit(x, labels, { epochs: "3" });
  const losses: number[] = history.history.loss;
  const { accuracy = NaN } = model.evaluate(x, labels);
  const predictions: nb.Tensor = model.predict(x);
  const bytes: Uint8Array = model.save();
  const restored: nb.Sequential = nb.loadModel(bytes);

  // A layer on its own: returnState decides apply's type; weights train in a custom loop.
  const seqs = nb.randn([4, 5, 8], { seed: 5 });
  const enc = nb.layer(nb.layers.lstm({ units: 6, returnState: true }), { inputShape: [null, 8], seed: 1 });
  const dec = nb.layer(nb.layers.gru({ units: 6, returnSequences: true }), { inputShape: [5, 8] });
  const [, h, c]: nb.LstmOutputs = enc.apply(seqs);
  const decoded: nb.Tensor = dec.apply(seqs, { initialState: [h] });
  const names: readonly string[] = enc.weightNames;
  const step = nb.valueAndGrad((s: nb.Tensor) => nb.sum(enc.apply(s, { initialState: [h, c] })[1]))(seqs, ...enc.weights);
  nb.optim.sgd().step(enc.weights, step.grads.slice(1));
  // @ts-expect-error -- with returnState, apply gives [output, h, c], not a Tensor
  const notOne: nb.Tensor = enc.apply(seqs);
  // @ts-expect-error -- nb.sequential has one output per layer: no returnState
  nb.sequential([nb.layers.lstm({ units: 2, returnState: true })], { inputShape: [5, 8] });
  enc.dispose();
  dec.dispose();

  // Errors: one base class with a typed code.
  try {
    nb.matmul(x, x);
  } catch (e) {
    if (e instanceof nb.ShapeError) {
      const code: nb.ErrorCode = e.code;
      const arg: string | undefined = e.arg;
      void [code, arg];
    }
  }
  void [simd, shape, values, mean, value, perSample, g, ga, gp, gn, focal, rebuilt, wrong, gw, lossValue, warnings, losses, predictions, restored, decoded, names, notOne];
  return { accuracy, bytes };
}
