// Training does not freeze the page: while model.fit runs over many batches, an
// interval timer keeps firing. Counts its ticks and the longest gap between them.
import * as nb from "nabla";

async function run() {
  await nb.init();
  const model = nb.sequential(
    [nb.layers.dense({ units: 256, activation: "relu" }), nb.layers.dense({ units: 256, activation: "relu" }), nb.layers.dense({ units: 1 })],
    { inputShape: [256], seed: 1 },
  );
  model.compile({ loss: nb.losses.mse(), optimizer: nb.optim.adam({ learningRate: 1e-3 }), silent: true });
  const x = nb.randn([4096, 256], { seed: 2 });
  const y = nb.randn([4096, 1], { seed: 3 });
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  const history = await model.fit(x, y, { epochs: 4, batchSize: 64, verbose: 0 });
  const ticksDuringFit = ticks; // read as fit resolves, before anything else can run
  const ms = performance.now() - t0;
  clearInterval(timer);
  maxGap = Math.max(maxGap, t0 + ms - last);
  return { ticks: ticksDuringFit, ms, maxGap, batches: 4 * (4096 / 64), loss: history.history.loss };
}

globalThis.fitResult = run().catch((e) => ({ failed: String(e?.stack ?? e) }));
