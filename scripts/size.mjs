// Size budget of the built package (issue 7): the .wasm raw and gzipped, and the JS a
// runtime loads (its entry plus the shared core.js) minified with terser. Prints a
// table, or JSON with --json; exits 1 when a size is over what is held.
//
//   node scripts/size.mjs [--json] [dist-dir]      (default: packages/nabla/dist)
//
// Two limits per size: the target, and the limit held (by this exit code and
// test/artifacts/size.test.ts). Where the target is met they are the same; where it is
// not yet met the held limit is the size reached plus a little headroom, so the size
// cannot grow back unnoticed. Lower it when a cut lands. 1 KB = 1000 bytes.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

export const TARGET = { wasmRaw: 600_000, wasmGzip: 200_000, jsMin: 60_000 };
export const HELD = { wasmRaw: TARGET.wasmRaw, wasmGzip: 250_000, jsMin: TARGET.jsMin };

const root = new URL("..", import.meta.url).pathname;
// terser is a dev dependency of the cross-boundary tests (test/package.json).
const requireFromTest = createRequire(join(root, "test", "package.json"));

async function minified(code) {
  let terser;
  try {
    terser = requireFromTest("terser");
  } catch {
    throw new Error("terser is not installed: run `pnpm install` (it is a dev dependency of test/)");
  }
  const out = await terser.minify(code, { module: true, compress: true, mangle: true });
  return out.code ?? "";
}

export async function measure(dist = join(root, "packages", "nabla", "dist")) {
  const wasmPath = join(dist, "nabla_bg.wasm");
  if (!existsSync(wasmPath)) throw new Error(`${wasmPath} is missing: run scripts/build.sh first`);
  const wasm = readFileSync(wasmPath);
  const core = await minified(readFileSync(join(dist, "core.js"), "utf8"));
  // Each runtime loads one entry (package.json exports) and core.js: count the largest.
  const entries = readdirSync(dist).filter((f) => f.endsWith(".js") && f !== "core.js");
  const sized = await Promise.all(entries.map(async (f) => ({ f, min: await minified(readFileSync(join(dist, f), "utf8")) })));
  const entry = sized.reduce((a, b) => (b.min.length > a.min.length ? b : a));
  // What wasm-bindgen's generated glue adds to core.js, measured on its own output.
  const gluePath = join(dist, "..", "wasm", "nabla.js");
  const glue = existsSync(gluePath) ? (await minified(readFileSync(gluePath, "utf8"))).length : null;
  const js = Buffer.byteLength(core) + Buffer.byteLength(entry.min);
  return {
    sizes: {
      wasmRaw: wasm.length,
      wasmGzip: gzipSync(wasm, { level: 9 }).length,
      jsMin: js,
    },
    info: {
      wasmBrotli: brotliCompressSync(wasm).length,
      jsMinGzip: gzipSync(core + entry.min, { level: 9 }).length,
      jsEntry: entry.f,
      jsCoreMin: Buffer.byteLength(core),
      jsGlueMin: glue,
    },
    target: TARGET,
    held: HELD,
  };
}

const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

function table(m) {
  const rows = [
    ["wasm", "wasmRaw", "nabla_bg.wasm"],
    ["wasm gzip -9", "wasmGzip", "nabla_bg.wasm, gzip level 9"],
    ["JS minified", "jsMin", `core.js + ${m.info.jsEntry} (largest entry), terser`],
  ];
  const lines = [`size budget (1 KB = 1000 bytes)`, ""];
  lines.push(`${"".padEnd(14)}${"size".padStart(10)}${"target".padStart(10)}${"held".padStart(10)}  status`);
  for (const [label, key, what] of rows) {
    const size = m.sizes[key], target = m.target[key], held = m.held[key];
    const status = size <= target ? "pass" : size <= held ? `over target by ${kb(size - target)}` : `FAIL: over ${kb(held)}`;
    lines.push(`${label.padEnd(14)}${kb(size).padStart(10)}${kb(target).padStart(10)}${kb(held).padStart(10)}  ${status}  (${what})`);
  }
  lines.push("");
  lines.push(`also: wasm brotli ${kb(m.info.wasmBrotli)}; JS minified+gzip ${kb(m.info.jsMinGzip)}; core.js minified ${kb(m.info.jsCoreMin)}` +
    (m.info.jsGlueMin === null ? "" : `, of which wasm-bindgen glue ≈ ${kb(m.info.jsGlueMin)}`));
  return lines.join("\n");
}

export function overHeld(m) {
  return Object.keys(m.sizes).filter((k) => m.sizes[k] > m.held[k]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const dist = args.find((a) => !a.startsWith("--"));
  try {
    const m = await measure(dist);
    console.log(json ? JSON.stringify(m, null, 2) : table(m));
    if (overHeld(m).length > 0) process.exit(1);
  } catch (e) {
    console.error(`size: ${e.message}`);
    process.exit(2);
  }
}
