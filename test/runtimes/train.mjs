// The smoke-and-train routine every runtime runs: the same seeded model, 20 steps,
// and a bad call that must raise a NablaError with its code.
export async function smoke(nb) {
  await nb.init();
  const model = nb.sequential([nb.layers.dense({ units: 8, activation: "tanh" }), nb.layers.dense({ units: 1 })], { inputShape: [3], seed: 1 });
  model.compile({ loss: nb.losses.mse(), optimizer: nb.optim.sgd({ learningRate: 0.1 }), silent: true });
  const x = nb.randn([16, 3], { seed: 2 });
  const y = nb.randn([16, 1], { seed: 3 });
  const losses = [];
  for (let i = 0; i < 20; i++) losses.push(model.trainOnBatch(x, y));
  let error;
  try {
    nb.matmul(nb.zeros([2, 3]), nb.zeros([2, 3]));
  } catch (e) {
    error = { name: e.name, code: e.code, isNablaError: e instanceof nb.NablaError };
  }
  return { info: nb.info(), losses, error };
}
