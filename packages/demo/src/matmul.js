// The smallest real example (`node packages/demo/src/matmul.js`; `./dev.sh demo` runs
// the main example, main.js): multiply two random matrices with nabla's SIMD128 GEMM,
// print GFLOP/s, and check the product against a plain triple loop in JavaScript (f64).
import * as nb from "nabla";
import { performance } from "node:perf_hooks";

const usage = `usage: node packages/demo/src/matmul.js [--size N] [--reps R]
  --size N   multiply two N×N matrices (default 512)
  --reps R   timed repetitions of the SIMD kernel (default 20)`;

function parseArgs(argv) {
  const opts = { size: 512, reps: 20 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const key = { "--size": "size", "--reps": "reps" }[flag];
    const value = Number(argv[i + 1]);
    if (flag === "--help" || flag === "-h") {
      console.log(usage);
      process.exit(0);
    }
    if (!key || !Number.isInteger(value) || value < 1) {
      console.error(key ? `invalid value for ${flag}: ${argv[i + 1] ?? "(missing)"}` : `unknown option: ${flag}`);
      console.error(usage);
      process.exit(2);
    }
    opts[key] = value;
    i++;
  }
  return opts;
}

/** Uniform values in [-1, 1) from a fixed-seed xorshift32, so every run multiplies the same matrices. */
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

function time(fn, reps) {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const { size: n, reps } = parseArgs(process.argv.slice(2));
await nb.init();
const info = nb.info();
console.log(`nabla ${info.version} · wasm SIMD128: ${info.simd ? "on" : "off"} · ${info.threads} thread`);

const a = nb.tensor(randomValues(n * n, 1), [n, n]);
const b = nb.tensor(randomValues(n * n, 2), [n, n]);
const flop = 2 * n * n * n;

for (let i = 0; i < 3; i++) nb.matmul(a, b).dispose(); // warm-up: JIT tiers, packing buffers
const simdMs = time(() => nb.matmul(a, b).dispose(), reps);

/** The same product as a JavaScript triple loop, accumulating in f64. */
function plainProduct(av, bv) {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const aip = av[i * n + p];
      for (let j = 0; j < n; j++) out[i * n + j] += aip * bv[p * n + j];
    }
  }
  return out;
}
let want;
const refMs = time(() => (want = plainProduct(a.data(), b.data())), 1);

const c = nb.matmul(a, b);
const got = c.data();
let maxAbs = 0;
let maxRef = 0;
for (let i = 0; i < got.length; i++) {
  maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
  maxRef = Math.max(maxRef, Math.abs(want[i]));
}
const rel = maxAbs / maxRef;

const gflops = (ms) => (flop / (ms * 1e6)).toFixed(1);
console.log(`matmul ${n}×${n} · ${n}×${n}`);
console.log(`  SIMD128 GEMM      ${simdMs.toFixed(2).padStart(8)} ms   ${gflops(simdMs).padStart(6)} GFLOP/s   (best of ${reps})`);
console.log(`  plain JS (f64)    ${refMs.toFixed(2).padStart(8)} ms   ${gflops(refMs).padStart(6)} GFLOP/s`);
console.log(`  speed-up ${(refMs / simdMs).toFixed(1)}×`);
console.log(`  check: max |simd − plain| = ${maxAbs.toExponential(2)} (${rel.toExponential(2)} of max |plain|): ${rel <= 1e-5 ? "OK, within 1e-5" : "FAILED"}`);
for (const t of [a, b, c]) t.dispose();
if (!(rel <= 1e-5)) process.exit(1);
