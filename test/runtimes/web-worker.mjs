// A Web Worker (Deno's, Bun's) serving training requests: no port, the worker's global
// scope is the channel, as in a browser.
import * as nb from "nabla";

nb.serveTraining(async (request) => {
  const model = nb.sequential([nb.layers.dense({ units: 8, activation: "tanh" }), nb.layers.dense({ units: 1 })], { inputShape: [3], seed: 1 });
  model.compile({ loss: nb.losses.mse(), optimizer: nb.optim.sgd({ learningRate: 0.1 }), silent: true });
  const x = nb.randn([64, 3], { seed: 2 });
  // A bad request: labels one sample short, so fit raises a ShapeError inside the worker.
  const y = nb.randn([request.bad ? 63 : 64, 1], { seed: 3 });
  return { model, x, y, fitOptions: { epochs: request.epochs, batchSize: 16, shuffle: false } };
});
