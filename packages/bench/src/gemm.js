// GEMM throughput of nabla next to TensorFlow.js's wasm backend (XNNPACK), both
// measured in this process, in this run, on the same matrices, interleaved shape by
// shape so that machine noise hits both. Run with `pnpm bench` at the repo root.
import * as nb from "nabla";
import * as tf from "@tensorflow/tfjs";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import os from "node:os";

const usage = `usage: pnpm bench [-- options]      (or: node packages/bench/src/gemm.js [options])
  --quick        fewer shapes and shorter timing (squares 64,256,512 + the training shapes)
  --sizes 64,128 only these square sizes (N×N · N×N), no training shapes
  --no-cpu       skip the TF.js "cpu" backend reference column
  --json         print one JSON document instead of the table
  --help         this text`;

const SQUARES = [64, 128, 256, 384, 512, 768, 1024];
const QUICK_SQUARES = [64, 256, 512];
/** Shapes the training workloads actually run (dense layers on MNIST, conv via im2col). */
const WORKLOADS = [
  { m: 64, k: 784, n: 128, what: "dense 784→128, batch 64" },
  { m: 64, k: 128, n: 10, what: "dense 128→10, batch 64" },
  { m: 256, k: 784, n: 128, what: "dense 784→128, batch 256 inference" },
  { m: 32 * 28 * 28, k: 3 * 3 * 1, n: 8, what: "conv 3×3×1→8 im2col, batch 32" },
  { m: 6272, k: 72, n: 16, what: "conv 3×3×8→16 im2col" },
];
// max |nabla - tfjs| / max |tfjs| per shape; also both against an f64 dot product on
// 256 sampled entries (nabla and XNNPACK accumulate in the same order, so their
// products are often bit-identical: the f64 check makes sure both are right).
const TOLERANCE = 1e-4;
const CPU_MAX_FLOP = 2 * 256 ** 3; // tfjs "cpu" backend only on shapes up to 256³ of work

function fail(message) {
  console.error(message);
  console.error(usage);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { quick: false, sizes: null, cpu: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--") continue; // pnpm may pass it through
    if (flag === "--help" || flag === "-h") {
      console.log(usage);
      process.exit(0);
    } else if (flag === "--quick") opts.quick = true;
    else if (flag === "--json") opts.json = true;
    else if (flag === "--no-cpu") opts.cpu = false;
    else if (flag === "--sizes" || flag.startsWith("--sizes=")) {
      const value = flag === "--sizes" ? argv[++i] : flag.slice("--sizes=".length);
      const sizes = (value ?? "").split(",").map((s) => Number(s.trim()));
      if (!value || sizes.some((s) => !Number.isInteger(s) || s < 1 || s > 8192)) {
        fail(`invalid value for --sizes: ${value ?? "(missing)"} (want e.g. 64,128,512)`);
      }
      opts.sizes = sizes;
    } else fail(`unknown option: ${flag}`);
  }
  return opts;
}

/** Uniform values in [-1, 1) from a fixed-seed xorshift32: every run multiplies the same matrices. */
function randomValues(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * Times several single-call functions against each other. Each one is warmed up, then
 * timed in samples of `calls` back-to-back calls (enough calls that a sample lasts
 * ≥ 2 ms, so timer resolution does not matter for small shapes); samples of the
 * different functions alternate until each has ≥ minMs of samples and ≥ minSamples.
 * Returns, per function, the median and best time per call in ms.
 */
function measure(fns, { minMs, minSamples, sampleMs = 2, warmupMs = 30 }) {
  const state = fns.map((fn) => {
    // Warm-up: at least 3 calls and warmupMs (JIT tiers, packing buffers, operator caches).
    let n = 0;
    const t0 = performance.now();
    while (n < 3 || performance.now() - t0 < warmupMs) {
      fn();
      n++;
    }
    const perCall = (performance.now() - t0) / n;
    return { fn, calls: Math.max(1, Math.ceil(sampleMs / perCall)), samples: [], total: 0 };
  });
  const done = (s) => s.total >= minMs && s.samples.length >= minSamples;
  while (!state.every(done)) {
    for (const s of state) {
      if (done(s)) continue;
      const { fn, calls } = s;
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) fn();
      const dt = performance.now() - t0;
      s.total += dt;
      s.samples.push(dt / calls);
    }
  }
  return state.map((s) => ({
    medianMs: median(s.samples),
    bestMs: Math.min(...s.samples),
    samples: s.samples.length,
    callsPerSample: s.calls,
  }));
}

/**
 * nabla's SIMD128 GEMM ceiling: the micro-kernel on L1-resident data, best of `tries`
 * timed samples of ~100 ms. The flop count is computed here from one rep's flops:
 * the wasm side returns a 32-bit usize, which wraps past 2^32 flops, so each call is
 * kept below that and a sample is several calls.
 */
function microKernelPeak(tries) {
  const perRep = nb.internal.microKernelPeak(1);
  const maxReps = Math.floor((2 ** 32 - 1) / perRep);
  let reps = Math.min(maxReps, 1000);
  let calls = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) nb.internal.microKernelPeak(reps);
    const ms = performance.now() - t0;
    if (ms >= 50) break;
    const want = Math.ceil(reps * calls * Math.min(100, 100 / Math.max(ms, 0.5)));
    reps = Math.min(maxReps, want);
    calls = Math.ceil(want / reps);
  }
  let best = 0;
  for (let i = 0; i < tries; i++) {
    const t0 = performance.now();
    for (let j = 0; j < calls; j++) {
      const got = nb.internal.microKernelPeak(reps);
      if (got !== reps * perRep) throw new Error(`microKernelPeak(${reps}) returned ${got}, want ${reps * perRep}`);
    }
    const s = (performance.now() - t0) / 1e3;
    best = Math.max(best, (calls * reps * perRep) / s / 1e9);
  }
  return best;
}

/** Max |got - f64 reference| / max |want| over `samples` entries spread over the product. */
function maxRelDiffF64(a, b, got, want, { m, k, n }, samples = 256) {
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) maxRef = Math.max(maxRef, Math.abs(want[i]));
  let maxAbs = 0;
  const total = m * n;
  for (let t = 0; t < Math.min(samples, total); t++) {
    const idx = Math.floor(((t + 0.5) * total) / Math.min(samples, total));
    const i = Math.floor(idx / n);
    const j = idx % n;
    let sum = 0;
    for (let p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
    const d = Math.abs(got[idx] - sum);
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
  }
  return maxAbs / (maxRef || 1);
}

function maxRelDiff(got, want) {
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbs = Math.max(maxAbs, Number.isNaN(d) ? Infinity : d);
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  return maxAbs / (maxRef || 1);
}

/** Loads tfjs-backend-wasm from its own dist directory and checks which binary it picked. */
async function initTfWasm() {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
  const simdFile = join(dist, "tfjs-backend-wasm-simd.wasm");
  if (!existsSync(simdFile)) throw new Error(`tfjs-backend-wasm: ${simdFile} is missing`);
  tfwasm.setWasmPaths(dist + "/");
  tfwasm.setThreadsCount(1);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threaded = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  // tfjs-backend-wasm picks its binary from these two flags (getPathToWasmBinary).
  const binary = simd ? (threaded ? "tfjs-backend-wasm-threaded-simd.wasm" : "tfjs-backend-wasm-simd.wasm") : "tfjs-backend-wasm.wasm";
  if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  return { simd, binary, threads: tfwasm.getThreadsCount() };
}

const fmt = (x, digits = 1) => (x == null || !Number.isFinite(x) ? "—" : x.toFixed(digits));

// ---------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const timing = opts.quick ? { minMs: 150, minSamples: 3 } : { minMs: 500, minSamples: 5 };
const cpuTiming = { minMs: 150, minSamples: 3, warmupMs: 0 };
const shapes = opts.sizes
  ? opts.sizes.map((s) => ({ m: s, k: s, n: s }))
  : [...(opts.quick ? QUICK_SQUARES : SQUARES).map((s) => ({ m: s, k: s, n: s })), ...WORKLOADS];
for (const s of shapes) {
  s.label = s.m === s.k && s.k === s.n && !s.what ? `${s.m}³` : `${s.m}×${s.k}·${s.k}×${s.n}`;
  s.flop = 2 * s.m * s.k * s.n;
  s.cpu = opts.cpu && !opts.quick && s.flop <= CPU_MAX_FLOP;
}

await nb.init();
const nbInfo = nb.info();
let tfInfo;
try {
  tfInfo = await initTfWasm();
} catch (e) {
  console.error(`TensorFlow.js wasm backend failed to load: ${e?.message ?? e}`);
  process.exit(1);
}
const peak = microKernelPeak(opts.quick ? 3 : 5);
const cpuModel = os.cpus()[0]?.model?.trim() ?? "unknown CPU";
const anyCpu = shapes.some((s) => s.cpu);

const cols = [
  { title: "shape (m×k·k×n)", width: Math.max(15, ...shapes.map((s) => s.label.length)), left: true },
  { title: "nabla GFLOP/s", width: 13 },
  { title: "tfjs-wasm GFLOP/s", width: 17 },
  { title: "nabla/tfjs", width: 10 },
  { title: "nabla % peak", width: 12 },
  ...(anyCpu ? [{ title: "tfjs-cpu GFLOP/s", width: 16 }] : []),
  { title: "diff nabla↔tfjs", width: 15 },
  { title: "diff vs f64", width: 11 },
  { title: "", width: 0, left: true },
];
const row = (cells) =>
  cells
    .map((c, i) => (cols[i].left ? String(c).padEnd(cols[i].width) : String(c).padStart(cols[i].width)))
    .join("  ")
    .trimEnd();

if (!opts.json) {
  console.log("nabla GEMM benchmark: nabla next to TensorFlow.js wasm, same process, same run");
  console.log(`machine  node ${process.version} · ${process.platform}-${process.arch} · ${os.cpus().length} logical CPUs · ${cpuModel}`);
  console.log(
    `nabla    ${nbInfo.version} · SIMD128 ${nbInfo.simd ? "on" : "OFF"} · ${nbInfo.threads} thread · wasm memory ${(nbInfo.memoryBytes / 2 ** 20).toFixed(1)} MiB`,
  );
  console.log(
    `tfjs     ${tf.version.tfjs} · backend ${tf.getBackend()} ${tfwasm.version_wasm} (XNNPACK) · ${tfInfo.binary} · SIMD ${tfInfo.simd ? "on" : "OFF"} · ${tfInfo.threads} thread`,
  );
  console.log(`peak     nabla SIMD128 micro-kernel on L1-resident data: ${peak.toFixed(1)} GFLOP/s (best of ${opts.quick ? 3 : 5})`);
  console.log(
    `timing   median time per call after warm-up, ≥ ${timing.minMs / 1000} s and ≥ ${timing.minSamples} samples per library, libraries interleaved; GFLOP/s = 2·m·k·n / time`,
  );
  if (!nbInfo.simd || !tfInfo.simd) console.log("WARNING  a library is running WITHOUT wasm SIMD: the comparison is not like for like");
  console.log("");
  console.log(row(cols.map((c) => c.title)));
  console.log(row(cols.map((c) => "-".repeat(c.width))));
}

const results = [];
for (const s of shapes) {
  const aData = randomValues(s.m * s.k, 1 + s.m);
  const bData = randomValues(s.k * s.n, 7 + s.n);

  const na = nb.tensor(aData, [s.m, s.k]);
  const nbT = nb.tensor(bData, [s.k, s.n]);
  const ta = tf.tensor2d(aData, [s.m, s.k]);
  const tb = tf.tensor2d(bData, [s.k, s.n]);

  // One product from each, read back outside timing: both really computed, and agree.
  const nc = nb.matmul(na, nbT);
  const tc = tf.matMul(ta, tb);
  const nData = nc.data();
  const tData = tc.dataSync();
  const rel = maxRelDiff(nData, tData);
  const relF64 = Math.max(maxRelDiffF64(aData, bData, nData, tData, s), maxRelDiffF64(aData, bData, tData, tData, s));
  nc.dispose();
  tc.dispose();

  const [rn, rt] = measure(
    [() => nb.matmul(na, nbT).dispose(), () => tf.matMul(ta, tb).dispose()],
    timing,
  );
  na.dispose();
  nbT.dispose();
  ta.dispose();
  tb.dispose();

  let rc = null;
  if (s.cpu) {
    await tf.setBackend("cpu");
    // Its one-time "install tfjs-node" banner would break the table.
    const cpuBackend = tf.findBackend("cpu");
    if (cpuBackend) cpuBackend.firstUse = false;
    const ca = tf.tensor2d(aData, [s.m, s.k]);
    const cb = tf.tensor2d(bData, [s.k, s.n]);
    [rc] = measure([() => tf.matMul(ca, cb).dispose()], cpuTiming);
    ca.dispose();
    cb.dispose();
    await tf.setBackend("wasm");
  }

  const gf = (r) => (r ? s.flop / (r.medianMs / 1e3) / 1e9 : null);
  const gfBest = (r) => (r ? s.flop / (r.bestMs / 1e3) / 1e9 : null);
  const res = {
    shape: s.label,
    m: s.m,
    k: s.k,
    n: s.n,
    what: s.what ?? null,
    flop: s.flop,
    nabla: { ...rn, gflops: gf(rn), bestGflops: gfBest(rn) },
    tfjsWasm: { ...rt, gflops: gf(rt), bestGflops: gfBest(rt) },
    tfjsCpu: rc && { ...rc, gflops: gf(rc), bestGflops: gfBest(rc) },
    ratio: gf(rn) / gf(rt),
    percentOfPeak: (100 * gf(rn)) / peak,
    maxRelDiff: rel,
    maxRelDiffF64Sampled: relF64,
    agree: rel <= TOLERANCE && relF64 <= TOLERANCE,
  };
  // Noisy: a library's median call took over 25% longer than its best one.
  res.noisy = [rn, rt].some((r) => r.medianMs > 1.25 * r.bestMs);
  results.push(res);
  if (!opts.json) {
    console.log(
      row([
        s.label,
        fmt(res.nabla.gflops),
        fmt(res.tfjsWasm.gflops),
        fmt(res.ratio, 2),
        fmt(res.percentOfPeak, 0) + "%",
        ...(anyCpu ? [fmt(res.tfjsCpu?.gflops, 2)] : []),
        rel.toExponential(1),
        relF64.toExponential(1),
        [res.agree ? "" : "MISMATCH", res.noisy ? "(noisy)" : "", s.what ?? ""].filter(Boolean).join(" "),
      ]),
    );
  }
}

// "Shape ≥ 128": its largest dimension is at least 128 (so 64³ is left out).
const slower = results.filter((r) => Math.max(r.m, r.k, r.n) >= 128 && r.ratio < 1);
const mismatched = results.filter((r) => !r.agree);

if (opts.json) {
  console.log(
    JSON.stringify(
      {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpu: { model: cpuModel, logical: os.cpus().length },
        nabla: nbInfo,
        tfjs: { version: tf.version.tfjs, backend: "wasm", wasmBackendVersion: tfwasm.version_wasm, ...tfInfo },
        peakGflops: peak,
        timing,
        tolerance: TOLERANCE,
        results,
        slowerThanTfjs: slower.map((r) => r.shape),
        mismatched: mismatched.map((r) => r.shape),
      },
      null,
      2,
    ),
  );
} else {
  console.log("");
  const big = results.filter((r) => Math.max(r.m, r.k, r.n) >= 128).length;
  console.log(
    big === 0
      ? "verdict  no shape ≥ 128 measured"
      : slower.length === 0
      ? `verdict  nabla ≥ tfjs-wasm on every shape ≥ 128 (${big} shapes)`
      : `verdict  nabla slower than tfjs-wasm (ratio < 1.0) on shapes ≥ 128: ${slower.map((r) => `${r.shape} (${r.ratio.toFixed(2)})`).join(", ")}`,
  );
  if (mismatched.length) {
    console.log(`ERROR    products disagree beyond ${TOLERANCE} relative on: ${mismatched.map((r) => r.shape).join(", ")}`);
  }
}
process.exitCode = mismatched.length ? 1 : 0;
