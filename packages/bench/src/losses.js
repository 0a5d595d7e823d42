// Softmax cross-entropy, value and gradient, on [1024, 1000] logits: nabla's
// crossEntropy({ fromLogits: true }) next to TF.js wasm's tf.losses.softmaxCrossEntropy
// with tf.valueAndGrad, in the same process and run. Run with `pnpm bench`.
import * as nb from "nabla";
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";

const usage = `usage: node packages/bench/src/losses.js [--quick] [--json]`;
const args = process.argv.slice(2).filter((a) => a !== "--");
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--sizes") i++; // gemm.js's option (with its value): not ours, ignored
  else if (!["--quick", "--json", "--no-cpu"].includes(a) && !a.startsWith("--sizes=")) {
    console.error(`unknown option: ${a}\n${usage}`);
    process.exit(2);
  }
}
const quick = args.includes("--quick");
const json = args.includes("--json");
const [B, C] = [1024, 1000];

function xorshift(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * 4;
  }
  return out;
}

/** Median (and best) milliseconds per call over ≥ minTime seconds and ≥ 5 samples, after warm-up. */
function time(fn, minTime) {
  for (let i = 0; i < 3; i++) fn();
  const samples = [];
  const start = performance.now();
  while (samples.length < 5 || performance.now() - start < minTime * 1000) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], best: samples[0] };
}

await nb.init();
const require = createRequire(import.meta.url);
tfwasm.setWasmPaths(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + "/");
tfwasm.setThreadsCount(1);
if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
await tf.ready();

const logitsData = xorshift(B * C, 7);
const labels = Int32Array.from({ length: B }, (_, i) => (i * 7919) % C);
const onehotData = new Float32Array(B * C);
labels.forEach((y, i) => (onehotData[i * C + y] = 1));

const ce = nb.losses.crossEntropy({ fromLogits: true });
const nbLogits = nb.tensor(logitsData, [B, C]);
const nbLabels = nb.tensor(labels);
const tfLogits = tf.tensor2d(logitsData, [B, C]);
const tfOnehot = tf.tensor2d(onehotData, [B, C]);
const tfValueAndGrad = tf.valueAndGrad((x) => tf.losses.softmaxCrossEntropy(tfOnehot, x));

// Same answer first: value and gradient agree.
const nbGrad = ce.grad(nbLabels, nbLogits);
const nbValue = ce(nbLabels, nbLogits);
const { value: tv, grad: tg } = tfValueAndGrad(tfLogits);
const tfValue = tv.dataSync()[0];
const a = nbGrad.data();
const b = tg.dataSync();
let maxDiff = 0;
for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
tv.dispose();
tg.dispose();
nbGrad.dispose();

const minTime = quick ? 0.3 : 1;
const runs = [];
for (let round = 0; round < 2; round++) {
  // Interleaved so machine noise hits both.
  runs.push(["nabla", time(() => ce.grad(nbLabels, nbLogits).dispose(), minTime)]);
  runs.push([
    "tfjs",
    time(() => {
      const { value, grad } = tfValueAndGrad(tfLogits);
      value.dispose();
      grad.dispose();
    }, minTime),
  ]);
}
const best = (who) => Math.min(...runs.filter(([w]) => w === who).map(([, r]) => r.median));
const nbMs = best("nabla");
const tfMs = best("tfjs");
const ratio = tfMs / nbMs;
const result = {
  workload: `softmax cross-entropy value+gradient, logits [${B}, ${C}], integer labels (TF.js: one-hot)`,
  nablaMs: nbMs,
  tfjsWasmMs: tfMs,
  ratio,
  target: 2,
  valueDiff: Math.abs(nbValue - tfValue),
  gradMaxDiff: maxDiff,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log(`\nloss     ${result.workload}`);
  console.log(`         nabla ${nbMs.toFixed(2)} ms · tfjs-wasm ${tfMs.toFixed(2)} ms · nabla ${ratio.toFixed(2)}× faster (target ≥ 2×)`);
  console.log(`check    |value diff| ${result.valueDiff.toExponential(1)} · max |grad diff| ${maxDiff.toExponential(1)}`);
}
if (!(result.valueDiff < 1e-4 * Math.abs(tfValue) + 1e-6 && maxDiff < 1e-6)) {
  console.error("MISMATCH between nabla and TF.js");
  process.exit(1);
}
