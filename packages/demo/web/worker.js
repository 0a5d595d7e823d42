// The page's worker: all of nabla runs here, so the page only draws. It serves
// training requests through nb.serveTraining (model and loss as the page picked them,
// on MNIST or CO2 data loaded once from the build's packs), and answers the page's own
// messages on the same channel: `{ demo: "advise", question }` → the advisor's answer.
import * as nb from "nabla";
import { co2Url, mnistUrl } from "virtual:demo-data";
import { ARCH, SEED } from "../src/catalogue.js";
import { MODELS, TASKS } from "./options.js";
import { fetchPack } from "./pack.js";

// Tensors per data set, made on first use and kept for every later run.
const datasets = {};

async function loadMnist() {
  const { meta, arrays } = await fetchPack(mnistUrl);
  // Bytes back to the package's values exactly: k/255 rounded to 3 decimals (see src/web-data.js).
  const pixels = (u8) => Float32Array.from(u8, (k) => Math.round((k / 255) * 1000) / 1000);
  const oneHot = (labels) => {
    const out = new Float32Array(labels.length * 10);
    labels.forEach((c, i) => (out[i * 10 + c] = 1));
    return out;
  };
  const split = (x, labels) => {
    const n = labels.length;
    const xs = pixels(x);
    return {
      n,
      x: { MLP: nb.tensor(xs, [n, 784]), CNN: nb.tensor(xs, [n, 28, 28, 1]) },
      y: { "int32 labels": nb.tensor(Int32Array.from(labels)), "one-hot float32": nb.tensor(oneHot(labels), [n, 10]) },
    };
  };
  return { meta, train: split(arrays.trainX, arrays.trainY), test: split(arrays.testX, arrays.testY) };
}

async function loadCo2() {
  const { meta, arrays: a } = await fetchPack(co2Url);
  const { nTrain, nTest, lookback } = meta;
  return {
    meta,
    train: { n: nTrain, x: nb.tensor(a.trainX, [nTrain, lookback, 1]), y: { clean: nb.tensor(a.trainY, [nTrain, 1]), outliers: nb.tensor(a.trainYOutliers, [nTrain, 1]) } },
    test: { n: nTest, x: nb.tensor(a.testX, [nTest, lookback, 1]), y: nb.tensor(a.testY, [nTest, 1]) },
  };
}

function dataset(task) {
  // A failed load is forgotten, so the next run tries again.
  datasets[task] ??= (task === "mnist" ? loadMnist() : loadCo2()).catch((e) => {
    delete datasets[task];
    throw e;
  });
  return datasets[task];
}

/**
 * A request: { runId, arch: "MLP" | "CNN" | "LSTM" | "GRU", loss: a key of the task's
 * losses, epochs, condition: "clean" | "outliers" (CO2) }.
 */
nb.serveTraining(async (request) => {
  const task = MODELS[request.arch]?.task;
  const arch = ARCH[request.arch];
  const choice = TASKS[task]?.losses.find((l) => l.key === request.loss);
  if (!arch || !choice) throw new nb.ValueError(`demo: no such model or loss: ${request.arch}, ${request.loss}`, { code: "INVALID_ARGUMENT", op: "demo", arg: "request" });
  const data = await dataset(task);
  const { batchSize, learningRate } = TASKS[task];

  const model = nb.sequential(arch.layers({ softmax: choice.output === "probabilities" }), { inputShape: arch.inputShape, seed: SEED });
  const warnings = model.compile({
    loss: nb.losses[choice.spec.name](choice.spec.config),
    optimizer: nb.optim.adam({ learningRate }),
    metrics: task === "mnist" ? ["accuracy"] : ["mse"],
    silent: true,
  });
  self.postMessage({ demo: "run", runId: request.runId, warnings, info: nb.info(), meta: data.meta, nTrain: data.train.n });

  const x = task === "mnist" ? data.train.x[request.arch] : data.train.x;
  const y = task === "mnist" ? data.train.y[choice.targets] : data.train.y[request.condition === "outliers" ? "outliers" : "clean"];
  const testX = task === "mnist" ? data.test.x[request.arch] : data.test.x;
  const testY = task === "mnist" ? data.test.y[choice.targets] : data.test.y;
  // The test split is the validation data: every epoch reports valLoss and valAccuracy (or valMse).
  // The bytes are for the download link: weights for inference, without the optimizer state.
  return { model, x, y, fitOptions: { epochs: request.epochs, batchSize, shuffle: true, validationData: [testX, testY] }, save: { optimizer: false } };
});

self.addEventListener("message", async (event) => {
  const { demo, question, key } = event.data ?? {};
  if (demo !== "advise") return;
  try {
    await nb.init();
    self.postMessage({ demo: "advice", key, advice: nb.losses.advise(question), info: nb.info() });
  } catch (e) {
    self.postMessage({ demo: "advice", key, error: String(e) });
  }
});
