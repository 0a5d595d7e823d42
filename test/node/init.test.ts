// init() as users call it, each case in a fresh Node process (a module instance that has
// never loaded): what it accepts, what it refuses with a FormatError INVALID_WASM saying
// why, that a refused load can be retried, and that concurrent calls share one load.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const wasmPath = createRequire(import.meta.url).resolve("nabla/nabla_bg.wasm");
let dir = "";
let otherVersion = "";

/** nabla's .wasm with `from` replaced by `to` (same length) inside the data section only. */
function patchDataSection(bytes: Uint8Array, from: string, to: string): { bytes: Uint8Array; hits: number } {
  const out = bytes.slice();
  const [a, b] = [new TextEncoder().encode(from), new TextEncoder().encode(to)];
  let pos = 8; // magic and version
  let hits = 0;
  while (pos < out.length) {
    const id = out[pos++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = out[pos++]!;
      size |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    if (id === 11) {
      for (let i = pos; i + a.length <= pos + size; i++) {
        if (a.every((c, j) => out[i + j] === c)) {
          out.set(b, i);
          hits++;
        }
      }
    }
    pos += size;
  }
  return { bytes: out, hits };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nabla-init-"));
  const { bytes, hits } = patchDataSection(readFileSync(wasmPath), "0.1.0", "9.9.9");
  expect(hits).toBeGreaterThan(0);
  otherVersion = join(dir, "nabla-9.9.9.wasm");
  writeFileSync(otherVersion, bytes);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each case names a `wasm` for init(); the script tries it, then checks that a plain
// init() (the package's own .wasm) still works in the same process.
const script = `
import * as nb from "nabla";
import { readFileSync } from "node:fs";
const good = readFileSync(process.env.NABLA_WASM);
const wasmType = { "content-type": "application/wasm" };
// A valid WebAssembly module that is not nabla's: imports env.f, exports "version".
const foreign = new Uint8Array([0,97,115,109,1,0,0,0, 1,4,1,96,0,0, 2,9,1,3,101,110,118,1,102,0,0, 3,2,1,0,
  7,11,1,7,118,101,114,115,105,111,110,0,1, 10,4,1,2,0,11]);
let seed = 7;
const noise = Uint8Array.from({ length: 4096 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
const sources = {
  "a number": () => 42,
  "an object": () => ({ bytes: good }),
  "random bytes": () => noise,
  "an empty wasm module": () => new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]),
  "another wasm module": () => new WebAssembly.Module(foreign),
  "nabla's .wasm of another version": () => readFileSync(process.env.NABLA_OTHER_VERSION),
  "an HTTP 404 response": () => new Response("not found", { status: 404 }),
  "a URL Node cannot fetch": () => new URL("file:///nonexistent/nabla_bg.wasm"),
  "a WebAssembly.Module": () => new WebAssembly.Module(good),
  "a Uint8Array": () => new Uint8Array(good),
  "an ArrayBuffer": () => good.buffer.slice(good.byteOffset, good.byteOffset + good.byteLength),
  "a Response served as application/wasm": () => new Response(good, { headers: wasmType }),
  "a Response of unknown type": () => new Response(good),
  "a Promise of a Response": () => Promise.resolve(new Response(good, { headers: wasmType })),
};
const name = process.argv[1];
const result = {};
try {
  await nb.init({ wasm: sources[name]() });
  result.loaded = true;
} catch (e) {
  const { name, code, op, arg, expected, received, message } = e;
  result.error = { name, code, op, arg, expected, received, message, isFormatError: e instanceof nb.FormatError, isNablaError: e instanceof nb.NablaError };
  try { nb.info(); } catch (e) { result.afterFailure = e.code; }
  await nb.init();
}
result.version = nb.info().version;
result.product = nb.matmul(nb.tensor([[1, 2]]), nb.tensor([[3], [4]])).toArray();
console.log(JSON.stringify(result));
`;

const exec = promisify(execFile);
async function run(code: string, args: string[] = []) {
  const { stdout, stderr } = await exec(process.execPath, ["--input-type=module", "-e", code, ...args], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    env: { ...process.env, NABLA_WASM: wasmPath, NABLA_OTHER_VERSION: otherVersion },
  });
  return { result: JSON.parse(stdout), stderr };
}

describe("init({ wasm })", () => {
  it.each([
    ["a number", /expected a WebAssembly\.Module, the \.wasm bytes \(ArrayBuffer or typed array\), a URL or a Response, received number 42$/],
    ["an object", /received an object \(Object\)$/],
    ["random bytes", /received bytes that are not a WebAssembly module \(CompileError: /],
    ["an empty wasm module", /expected nabla's WebAssembly module, received a WebAssembly module that is not nabla's$/],
    ["another wasm module", /expected nabla's WebAssembly module, received a WebAssembly module that is not nabla's$/],
    ["nabla's .wasm of another version", /expected the nabla 0\.1\.0 core, received the 9\.9\.9 core$/],
    ["an HTTP 404 response", /received HTTP 404 /],
    ["a URL Node cannot fetch", /received file:\/\/\/nonexistent\/nabla_bg\.wasm, which could not be fetched/],
  ])("refuses %s with a FormatError INVALID_WASM saying why; a plain init() then succeeds", async (name, message) => {
    const { result } = await run(script, [name]);
    expect(result.error).toMatchObject({ name: "FormatError", code: "INVALID_WASM", op: "init", arg: "wasm", isFormatError: true, isNablaError: true });
    expect(result.error.message).toMatch(/^init: invalid `wasm`: /);
    expect(result.error.message).toMatch(message);
    if (name === "nabla's .wasm of another version") expect(result.error).toMatchObject({ expected: "0.1.0", received: "9.9.9" });
    expect(result.afterFailure).toBe("NOT_INITIALIZED");
    expect(result.version).toBe("0.1.0");
    expect(result.product).toEqual([[11]]);
  });

  it.each([
    "a WebAssembly.Module",
    "a Uint8Array",
    "an ArrayBuffer",
    "a Response served as application/wasm",
    "a Response of unknown type",
    "a Promise of a Response",
  ])("loads nabla's own .wasm given as %s", async (name) => {
    const { result, stderr } = await run(script, [name]);
    expect(result).toEqual({ loaded: true, version: "0.1.0", product: [[11]] });
    expect(stderr).toBe("");
  });

  it("concurrent calls share one load; later calls do not load again", async () => {
    const { result } = await run(`
import * as nb from "nabla";
import { readFileSync } from "node:fs";
let reads = 0;
const options = { get wasm() { reads++; return readFileSync(process.env.NABLA_WASM); } };
const calls = [nb.init(options), nb.init(options), nb.init(options)];
await Promise.all(calls);
await nb.init(options);
await nb.init({ wasm: 42 }); // already loaded: nothing to do, nothing to refuse
console.log(JSON.stringify({ reads, shared: calls.every((c) => c === calls[0]), version: nb.info().version }));
`);
    expect(result).toEqual({ reads: 1, shared: true, version: "0.1.0" });
  });
});
