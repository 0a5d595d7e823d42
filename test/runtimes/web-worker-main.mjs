// Run by Deno and Bun: trains in a Web Worker through nb.trainInWorker and prints, as
// JSON, the progress it saw, the per-epoch losses, the reloaded model's loss and how a
// worker-side error arrived.
import * as nb from "nabla";

const worker = new Worker(new URL("./web-worker.mjs", import.meta.url), { type: "module" });
const events = [];
const run = nb.trainInWorker(worker, { epochs: 4 }, { onProgress: (e) => events.push(e.type === "epoch" ? { type: "epoch", loss: e.logs.loss } : { type: e.type, batch: e.batch }) });
const { history, model, aborted } = await run.result;

await nb.init();
const trained = nb.loadModel(model);
const reloadedLoss = trained.evaluate(nb.randn([64, 3], { seed: 2 }), nb.randn([64, 1], { seed: 3 })).loss;

let error;
try {
  await nb.trainInWorker(worker, { epochs: 1, bad: true }).result;
} catch (e) {
  error = { name: e.name, code: e.code, isNablaError: e instanceof nb.NablaError };
}
worker.terminate();
console.log(JSON.stringify({ events, losses: history.history.loss, aborted, modelBytes: model.byteLength, reloadedLoss, error }));
