// The worker of test/worker.test.ts: serves training requests over worker_threads'
// parentPort, as a user's worker script would (the built package, not the sources).
import { parentPort } from "node:worker_threads";
import * as nb from "../../dist/index.js";

nb.serveTraining(async (request) => {
  switch (request.kind) {
    case "throw": {
      // A NablaError subclass by name, or a plain error, thrown by the handler itself.
      const Class = nb[request.name] ?? globalThis[request.name];
      throw request.fields ? new Class(request.message, request.fields) : new Class(request.message);
    }
    case "badSpec":
      return { x: [1], y: [1] };
    case "crash":
      process.exit(3);
  }
  // "train": a classifier on the data the request carries ([n, features] floats, int labels).
  const { x, y, n, features, classes } = request;
  const model = nb.sequential(
    [nb.layers.dense({ units: 16, activation: "relu" }), nb.layers.dense({ units: classes })],
    { inputShape: [features], seed: 3 },
  );
  model.compile({ loss: nb.losses.crossEntropy({ fromLogits: true }), optimizer: nb.optim.adam({ learningRate: 1e-2 }), metrics: ["accuracy"] });
  const rows = request.badRows ? n - 1 : n; // badRows: y one sample short, so fit throws a ShapeError
  return {
    model,
    x: nb.tensor(x, [n, features]),
    y: nb.tensor(y.subarray(0, rows), [rows], "int32"),
    fitOptions: { epochs: request.epochs, batchSize: request.batchSize, validationSplit: request.validationSplit ?? 0 },
    ...(request.save ? { save: request.save } : {}),
  };
}, parentPort);
