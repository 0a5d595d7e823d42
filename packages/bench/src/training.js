// Training throughput (forward + backward + optimizer update) of small models, nabla's
// model.trainOnBatch next to TensorFlow.js's tf.sequential + model.trainOnBatch, on the
// wasm backend (XNNPACK, SIMD, 1 thread) and the cpu backend, in the same process and
// run. nabla and TF.js-wasm are timed interleaved; TF.js-cpu separately, capped. Both
// libraries start from the same weights (nabla's initial weights are copied into the
// TF.js model) and train on the same batches. Run with `pnpm bench` at the repo root.
import * as nb from "nabla";
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import os from "node:os";

const usage = `usage: node packages/bench/src/training.js [options]   (also run by \`pnpm bench\`)
  --quick        shorter timing (≥ 0.3 s per library per workload instead of ≥ 1 s)
  --no-cpu       skip the TF.js "cpu" backend column
  --json         print one JSON document instead of the table
  --sizes ...    accepted and ignored (a gemm.js option; \`pnpm bench\` passes every flag to every benchmark)
  --help         this text`;

function fail(message) {
  console.error(message);
  console.error(usage);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { quick: false, cpu: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--") continue; // pnpm may pass it through
    if (flag === "--help" || flag === "-h") {
      console.log(usage);
      process.exit(0);
    } else if (flag === "--quick") opts.quick = true;
    else if (flag === "--json") opts.json = true;
    else if (flag === "--no-cpu") opts.cpu = false;
    else if (flag === "--sizes") {
      if (argv[i + 1] === undefined) fail("invalid value for --sizes: (missing)");
      i++;
    } else if (flag.startsWith("--sizes=")) continue;
    else fail(`unknown option: ${flag}`);
  }
  return opts;
}

/** Uniform values in [lo, hi) from a fixed-seed xorshift32: every run, both libraries, the same data. */
function randomValues(n, seed, lo = -1, hi = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + (s / 2 ** 32) * (hi - lo);
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * Times several one-step functions (sync or async) against each other. Each is warmed
 * up (≥ 3 steps and ≥ warmupMs), then timed in samples of `steps` back-to-back steps
 * (enough for a sample to last ≥ sampleMs); samples of the different functions
 * alternate until each has ≥ minMs of samples and ≥ minSamples. A function may stop
 * early when it would exceed maxMs (the slow TF.js cpu column). Returns, per function,
 * the median and best time per step in ms, and the steps and time measured.
 */
async function measure(fns, { minMs, minSamples, maxMs = Infinity, sampleMs = 25, warmupMs = 100 }) {
  const state = [];
  for (const fn of fns) {
    let n = 0;
    const t0 = performance.now();
    while (n < 3 || performance.now() - t0 < warmupMs) {
      await fn();
      n++;
      if (performance.now() - t0 > maxMs / 2) break; // slow: warm-up is already long
    }
    const perStep = (performance.now() - t0) / n;
    state.push({ fn, steps: Math.max(1, Math.ceil(sampleMs / perStep)), samples: [], total: 0, totalSteps: 0 });
  }
  const done = (s) => (s.total >= minMs && s.samples.length >= minSamples) || s.total >= maxMs;
  while (!state.every(done)) {
    for (const s of state) {
      if (done(s)) continue;
      const t0 = performance.now();
      for (let i = 0; i < s.steps; i++) await s.fn();
      const dt = performance.now() - t0;
      s.total += dt;
      s.totalSteps += s.steps;
      s.samples.push(dt / s.steps);
    }
  }
  return state.map((s) => ({
    medianStepMs: median(s.samples),
    bestStepMs: Math.min(...s.samples),
    samples: s.samples.length,
    stepsPerSample: s.steps,
    steps: s.totalSteps,
    timedMs: s.total,
  }));
}

/** Loads tfjs-backend-wasm from its own dist directory, as gemm.js does, and checks which binary it picked. */
async function initTfWasm() {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  const simdFile = join(dist, "tfjs-backend-wasm-simd.wasm");
  if (!existsSync(simdFile)) throw new Error(`tfjs-backend-wasm: ${simdFile} is missing`);
  tfwasm.setWasmPaths(dist + "/");
  tfwasm.setThreadsCount(1);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threaded = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  const binary = simd ? (threaded ? "tfjs-backend-wasm-threaded-simd.wasm" : "tfjs-backend-wasm-simd.wasm") : "tfjs-backend-wasm.wasm";
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  return { simd, binary, threads: tfwasm.getThreadsCount() };
}

async function useBackend(name) {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  // The cpu backend's one-time "install tfjs-node" banner would break the table.
  const b = tf.findBackend(name);
  if (b && "firstUse" in b) b.firstUse = false;
}

// ---------------------------------------------------------------------------------
// Workloads. Each has: the nabla layers and loss, the TF.js layers and loss (same math,
// same weight layouts: dense [in, units], conv [kh, kw, in, out], LSTM kernel [in, 4u],
// recurrent [u, 4u], gates i, f, g/c, o in both), the batch and its data.

const NUM_BATCHES = 4; // distinct batches cycled through, the same for both libraries
const LR = 1e-3;
const EPS = 1e-8; // torch's Adam epsilon (nabla's rule); TF.js's default is 1e-7

// Sparse softmax cross-entropy from logits. tfjs-layers checks a custom loss's targets
// against the output shape [batch, 10], so TF.js gets the integer labels as one-hot
// rows made once, outside the timed steps; nabla gets the int32 labels. Same value:
// mean over the batch of -log softmax(logits)[label].
const tfSoftmaxCE = (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred);

function classification(batch, sampleShape, seed) {
  const size = sampleShape.reduce((a, b) => a * b, 1);
  return Array.from({ length: NUM_BATCHES }, (_, b) => {
    const x = randomValues(batch * size, seed + 101 * b, 0, 1); // pixel-like values in [0, 1)
    const u = randomValues(batch, seed + 101 * b + 7, 0, 1);
    const labels = Int32Array.from(u, (v) => Math.min(9, Math.floor(v * 10)));
    const onehot = new Float32Array(batch * 10);
    labels.forEach((c, i) => (onehot[i * 10 + c] = 1));
    return { x, xShape: [batch, ...sampleShape], nbY: () => nb.tensor(labels), tfY: () => tf.tensor2d(onehot, [batch, 10]) };
  });
}

function regression(batch, sampleShape, seed) {
  const size = sampleShape.reduce((a, b) => a * b, 1);
  return Array.from({ length: NUM_BATCHES }, (_, b) => {
    const x = randomValues(batch * size, seed + 101 * b);
    const y = randomValues(batch, seed + 101 * b + 7);
    return { x, xShape: [batch, ...sampleShape], nbY: () => nb.tensor(y, [batch, 1]), tfY: () => tf.tensor2d(y, [batch, 1]) };
  });
}

const L = nb.layers;
const mlpNb = () => [L.dense({ units: 128, activation: "relu" }), L.dense({ units: 10 })];
const mlpTf = () => [
  tf.layers.dense({ units: 128, activation: "relu", inputShape: [784], kernelInitializer: "zeros" }),
  tf.layers.dense({ units: 10, kernelInitializer: "zeros" }),
];

const WORKLOADS = [
  {
    name: "mlp",
    what: "784 → dense 128 relu → dense 10, softmax CE from logits, adam, batch 64",
    batch: 64,
    inputShape: [784],
    nbLayers: mlpNb,
    tfLayers: mlpTf,
    nbLoss: () => nb.losses.crossEntropy({ fromLogits: true }),
    tfLoss: tfSoftmaxCE,
    data: () => classification(64, [784], 11),
  },
  {
    name: "cnn",
    what: "28×28×1 → conv 8@3×3 same relu → maxPool 2 → conv 16@3×3 same relu → maxPool 2 → flatten → dense 10, softmax CE, adam, batch 32",
    batch: 32,
    inputShape: [28, 28, 1],
    nbLayers: () => [
      L.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu" }),
      L.maxPool2d({ poolSize: 2 }),
      L.conv2d({ filters: 16, kernelSize: 3, padding: "same", activation: "relu" }),
      L.maxPool2d({ poolSize: 2 }),
      L.flatten(),
      L.dense({ units: 10 }),
    ],
    tfLayers: () => [
      tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: "same", activation: "relu", inputShape: [28, 28, 1], kernelInitializer: "zeros" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: "same", activation: "relu", kernelInitializer: "zeros" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: "zeros" }),
    ],
    nbLoss: () => nb.losses.crossEntropy({ fromLogits: true }),
    tfLoss: tfSoftmaxCE,
    data: () => classification(32, [28, 28, 1], 23),
  },
  {
    name: "lstm",
    what: "32 steps × 16 features → lstm 64 (last state) → dense 1, mse, adam, batch 32",
    batch: 32,
    inputShape: [32, 16],
    nbLayers: () => [L.lstm({ units: 64 }), L.dense({ units: 1 })],
    tfLayers: () => [
      // nabla's defaults spelled out: sigmoid gates (TF.js defaults to hardSigmoid),
      // forget-gate bias 1. Initializers are overwritten with nabla's weights (and
      // TF.js's orthogonal initializer would warn on a 64×256 matrix).
      tf.layers.lstm({
        units: 64,
        inputShape: [32, 16],
        activation: "tanh",
        recurrentActivation: "sigmoid",
        unitForgetBias: true,
        returnSequences: false,
        kernelInitializer: "zeros",
        recurrentInitializer: "zeros",
      }),
      tf.layers.dense({ units: 1, kernelInitializer: "zeros" }),
    ],
    nbLoss: () => nb.losses.mse(),
    tfLoss: "meanSquaredError",
    data: () => regression(32, [32, 16], 37),
  },
  {
    name: "mlp-infer",
    what: "the mlp's forward pass, model.predict, batch 256",
    batch: 256,
    inference: true,
    inputShape: [784],
    nbLayers: mlpNb,
    tfLayers: mlpTf,
    nbLoss: () => nb.losses.crossEntropy({ fromLogits: true }),
    tfLoss: tfSoftmaxCE,
    data: () => classification(256, [784], 53),
  },
];

// ---------------------------------------------------------------------------------

/** nabla's model and batches as tensors in wasm memory; the initial weights as plain arrays. */
function buildNabla(w, batches, seed) {
  const model = nb.sequential(w.nbLayers(), { inputShape: w.inputShape, seed });
  model.compile({ loss: w.nbLoss(), optimizer: nb.optim.adam({ learningRate: LR, epsilon: EPS }) });
  const weights = model.getWeights().map((t) => {
    const r = { shape: t.shape, data: Float32Array.from(t.data()) };
    t.dispose();
    return r;
  });
  const data = batches.map((b) => ({ x: nb.tensor(b.x, b.xShape), y: b.nbY() }));
  const dispose = () => {
    data.forEach((d) => (d.x.dispose(), d.y.dispose()));
    model.dispose();
  };
  return { model, data, weights, dispose };
}

/** A TF.js model on the current backend with the given weights, and the batches as tensors. */
function buildTf(w, batches, weights) {
  const model = tf.sequential({ layers: w.tfLayers() });
  const want = model.weights.map((v) => v.shape.join("×")).join(", ");
  const got = weights.map((v) => v.shape.join("×")).join(", ");
  if (want !== got) throw new Error(`internal: TF.js weight shapes [${want}] differ from nabla's [${got}]`);
  const ws = weights.map((v) => tf.tensor(v.data, v.shape));
  model.setWeights(ws);
  tf.dispose(ws);
  model.compile({ loss: w.tfLoss, optimizer: tf.train.adam(LR, 0.9, 0.999, EPS) });
  const data = batches.map((b) => ({ x: tf.tensor(b.x, b.xShape), y: b.tfY() }));
  const dispose = () => {
    data.forEach((d) => tf.dispose([d.x, d.y]));
    model.optimizer.dispose();
    model.dispose();
  };
  return { model, data, dispose };
}

// One step of each library, cycling through the batches. Inference reads the output
// back (dataSync: tiny, [256, 10]) in both, so both really computed it.
function nablaStep(w, m) {
  let i = 0;
  if (w.inference) {
    return () => {
      const d = m.data[i++ % NUM_BATCHES];
      const out = m.model.predict(d.x, { batchSize: w.batch });
      out.data();
      out.dispose();
    };
  }
  return () => {
    const d = m.data[i++ % NUM_BATCHES];
    return m.model.trainOnBatch(d.x, d.y);
  };
}

function tfStep(w, m) {
  let i = 0;
  if (w.inference) {
    return () => {
      const d = m.data[i++ % NUM_BATCHES];
      const out = m.model.predict(d.x, { batchSize: w.batch });
      out.dataSync();
      out.dispose();
    };
  }
  return () => {
    const d = m.data[i++ % NUM_BATCHES];
    return m.model.trainOnBatch(d.x, d.y); // a promise of the loss
  };
}

/** Initial loss on batch 0 (inference mode), and for training workloads the losses of steps 1 and 2 on batch 0. */
async function checkNabla(w, m) {
  const d = m.data[0];
  const initial = m.model.evaluate(d.x, d.y, { batchSize: w.batch }).loss;
  if (w.inference) return { initial };
  const step1 = m.model.trainOnBatch(d.x, d.y);
  const step2 = m.model.trainOnBatch(d.x, d.y);
  return { initial, step1, step2 };
}

async function checkTf(w, m) {
  const d = m.data[0];
  const e = m.model.evaluate(d.x, d.y, { batchSize: w.batch });
  const initial = (await e.data())[0];
  e.dispose();
  if (w.inference) return { initial };
  const step1 = await m.model.trainOnBatch(d.x, d.y);
  const step2 = await m.model.trainOnBatch(d.x, d.y);
  return { initial, step1, step2 };
}

const relDiff = (a, b) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
const errMessage = (e) => String(e?.message ?? e).split("\n")[0];

/** Runs `fn` under the TF.js backend `name`, then returns to wasm. */
async function onBackend(name, fn) {
  await useBackend(name);
  try {
    return await fn();
  } finally {
    await useBackend("wasm");
  }
}

// ---------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const timing = opts.quick ? { minMs: 300, minSamples: 5 } : { minMs: 1000, minSamples: 7 };
// TF.js cpu: not interleaved (another backend), ≥ the same time but capped.
const cpuTiming = opts.quick ? { minMs: 300, minSamples: 3, maxMs: 1000, warmupMs: 50 } : { minMs: 1000, minSamples: 3, maxMs: 3000, warmupMs: 100 };
// Agreement of the losses computed from the same weights on the same batch: the initial
// loss to float rounding; the loss after one Adam step looser (the two Adam rules place
// epsilon differently, and sign(g)-like first steps amplify rounding in tiny gradients).
const TOL_INITIAL = 1e-4;
const TOL_STEP = 1e-3;

await nb.init();
const nbInfo = nb.info();
let tfInfo;
try {
  tfInfo = await initTfWasm();
} catch (e) {
  console.error(`TensorFlow.js wasm backend failed to load: ${errMessage(e)}`);
  process.exit(1);
}
const cpuModel = os.cpus()[0]?.model?.trim() ?? "unknown CPU";

if (!opts.json) {
  console.log("\nnabla training benchmark: samples/s of model.trainOnBatch (forward + backward + adam update), nabla next to TensorFlow.js, same process, same run");
  console.log(`machine  node ${process.version} · ${process.platform}-${process.arch} · ${os.cpus().length} logical CPUs · ${cpuModel}`);
  console.log(`nabla    ${nbInfo.version} · SIMD128 ${nbInfo.simd ? "on" : "OFF"} · ${nbInfo.threads} thread`);
  console.log(
    `tfjs     ${tf.version.tfjs} · tf.sequential + tf.layers · backend wasm ${tfwasm.version_wasm} (XNNPACK) · ${tfInfo.binary} · SIMD ${tfInfo.simd ? "on" : "OFF"} · ${tfInfo.threads} thread${opts.cpu ? " · and backend cpu" : ""}`,
  );
  console.log(
    `timing   after warm-up, ≥ ${timing.minMs / 1000} s per library per workload, nabla and tfjs-wasm interleaved; samples/s = batch / median step time; tfjs-cpu separately, ≥ ${cpuTiming.minMs / 1000} s capped at ${cpuTiming.maxMs / 1000} s`,
  );
  console.log("data     fixed-seed random batches (4 per workload, cycled), the same for both; TF.js starts from nabla's initial weights");
  if (!nbInfo.simd || !tfInfo.simd) console.log("WARNING  a library is running WITHOUT wasm SIMD: the comparison is not like for like");
}

const results = [];
let problems = 0;
for (const [wi, w] of WORKLOADS.entries()) {
  const batches = w.data();
  const nbm = buildNabla(w, batches, 1000 + wi);
  const res = { workload: w.name, what: w.what, batch: w.batch, mode: w.inference ? "predict" : "trainOnBatch", nabla: null, tfjsWasm: null, tfjsCpu: null, ratio: null, check: {}, errors: [] };

  const nbCheck = await checkNabla(w, nbm);
  res.check.nabla = nbCheck;

  // tfjs-wasm, timed interleaved with nabla; if TF.js throws, nabla is timed alone.
  let tfm = null;
  try {
    tfm = buildTf(w, batches, nbm.weights);
    res.check.tfjsWasm = await checkTf(w, tfm);
  } catch (e) {
    res.tfjsWasm = { unsupported: errMessage(e) };
    tfm?.dispose();
    tfm = null;
  }
  const fns = [nablaStep(w, nbm)];
  if (tfm) fns.push(tfStep(w, tfm));
  let timed;
  try {
    timed = await measure(fns, timing);
  } catch (e) {
    // TF.js failing only inside the timed loop: time nabla alone.
    if (!tfm) throw e;
    res.tfjsWasm = { unsupported: errMessage(e) };
    tfm.dispose();
    tfm = null;
    timed = await measure([fns[0]], timing);
  }
  const sps = (r) => (w.batch / r.medianStepMs) * 1e3;
  res.nabla = { samplesPerSec: sps(timed[0]), ...timed[0] };
  if (tfm) {
    res.tfjsWasm = { samplesPerSec: sps(timed[1]), ...timed[1] };
    res.ratio = res.nabla.samplesPerSec / res.tfjsWasm.samplesPerSec;
    tfm.dispose();
  }
  nbm.dispose();

  if (opts.cpu) {
    try {
      res.tfjsCpu = await onBackend("cpu", async () => {
        const m = buildTf(w, batches, nbm.weights);
        try {
          res.check.tfjsCpu = await checkTf(w, m);
          const [r] = await measure([tfStep(w, m)], cpuTiming);
          return { samplesPerSec: sps(r), ...r, capped: r.timedMs >= cpuTiming.maxMs && (r.timedMs < cpuTiming.minMs || r.samples < cpuTiming.minSamples) };
        } finally {
          m.dispose();
        }
      });
    } catch (e) {
      res.tfjsCpu = { unsupported: errMessage(e) };
    }
  }

  // Checks: every initial loss finite; TF.js's losses equal to nabla's (same weights, same batch).
  for (const [who, c] of Object.entries(res.check)) {
    for (const [k, v] of Object.entries(c)) {
      if (!Number.isFinite(v)) res.errors.push(`${who} ${k} loss is ${v}`);
    }
    if (who === "nabla") continue;
    if (relDiff(c.initial, nbCheck.initial) > TOL_INITIAL) res.errors.push(`${who} initial loss ${c.initial} ≠ nabla's ${nbCheck.initial}`);
    if (c.step2 !== undefined && relDiff(c.step2, nbCheck.step2) > TOL_STEP) res.errors.push(`${who} loss after one step ${c.step2} ≠ nabla's ${nbCheck.step2}`);
  }
  problems += res.errors.length;
  results.push(res);
}

const num = (x) => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));
const cell = (r) => (!r ? "—" : r.unsupported ? `unsupported (${r.unsupported})` : num(r.samplesPerSec) + (r.capped ? " (capped)" : ""));

if (opts.json) {
  console.log(
    JSON.stringify(
      {
        benchmark: "training",
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpu: { model: cpuModel, logical: os.cpus().length },
        nabla: nbInfo,
        tfjs: { version: tf.version.tfjs, wasmBackendVersion: tfwasm.version_wasm, ...tfInfo, cpuBackend: opts.cpu },
        timing,
        cpuTiming: opts.cpu ? cpuTiming : null,
        tolerance: { initialLoss: TOL_INITIAL, lossAfterOneStep: TOL_STEP },
        results,
      },
      null,
      2,
    ),
  );
} else {
  const cols = [
    { title: "workload", left: true },
    { title: "nabla samples/s" },
    { title: "tfjs-wasm samples/s" },
    { title: "nabla/tfjs-wasm" },
    ...(opts.cpu ? [{ title: "tfjs-cpu samples/s" }] : []),
  ];
  const rows = results.map((r) => [r.workload, cell(r.nabla), cell(r.tfjsWasm), r.ratio == null ? "—" : r.ratio.toFixed(2), ...(opts.cpu ? [cell(r.tfjsCpu)] : [])]);
  const widths = cols.map((c, i) => Math.max(c.title.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (cols[i].left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  console.log("");
  console.log(line(cols.map((c) => c.title)));
  console.log(line(widths.map((n) => "-".repeat(n))));
  rows.forEach((r) => console.log(line(r)));
  console.log("");
  for (const r of results) console.log(`${r.workload.padEnd(10)} ${r.what}`);
  console.log("");
  const f = (x) => (x === undefined ? "—" : x.toFixed(5));
  for (const r of results) {
    const who = Object.entries(r.check);
    const parts = [`initial loss ${who.map(([k, c]) => `${k} ${f(c.initial)}`).join(" · ")}`];
    if (r.check.nabla.step2 !== undefined) {
      parts.push(`after 1 step ${who.map(([k, c]) => `${k} ${f(c.step2)}`).join(" · ")}`);
    }
    console.log(`check    ${r.workload}: ${parts.join("; ")}${r.errors.length ? "  MISMATCH" : ""}`);
  }
  const noisy = results.filter((r) => [r.nabla, r.tfjsWasm].some((x) => x?.medianStepMs > 1.25 * x?.bestStepMs));
  if (noisy.length) console.log(`noisy    median step > 25% slower than best on: ${noisy.map((r) => r.workload).join(", ")} (rerun on a quiet machine)`);
  for (const r of results) for (const e of r.errors) console.log(`ERROR    ${r.workload}: ${e}`);
}
process.exitCode = problems ? 1 : 0;
