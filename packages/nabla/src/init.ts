// Loading the wasm core once per process, and the guard every other call goes through.

import initWasm, * as wasm from "../wasm/nabla.js";
import { FormatError, StateError } from "./errors.js";
import { VERSION } from "./version.js";

/** What `init()` accepts: a compiled module, the bytes, or where to fetch them. */
export type WasmSource = WebAssembly.Module | BufferSource | URL | string | Response | Promise<Response>;

export interface InitOptions {
  /** The nabla .wasm to use instead of the one beside this file. */
  wasm?: WasmSource;
}

export interface Info {
  /** The package version; the wasm core is checked to be the same. */
  version: string;
  /** Whether the kernels run on WebAssembly SIMD128 instructions. */
  simd: boolean;
  /** Threads the kernels use. */
  threads: number;
  /** Current size of the wasm linear memory, in bytes. */
  memoryBytes: number;
}

let output: wasm.InitOutput | undefined;
let loading: Promise<void> | undefined;

/** Loads the wasm core for this runtime. Idempotent; concurrent calls share one load. */
export function init(options: InitOptions = {}): Promise<void> {
  if (output) return Promise.resolve();
  loading ??= load(options).catch((e: unknown) => {
    loading = undefined; // a failed load may be retried, e.g. with other bytes
    throw e;
  });
  return loading;
}

// Set by runtime entries that get the module another way (workerd imports the .wasm
// as a module: Workers may not compile WebAssembly from bytes at run time).
let bundledModule: WebAssembly.Module | undefined;

/** @internal For runtime entries: the compiled module to use when init() gets none. */
export function useBundledModule(module: WebAssembly.Module): void {
  bundledModule = module;
}

async function load(options: InitOptions): Promise<void> {
  const source = options.wasm ?? bundledModule ?? (await defaultSource());
  let out: wasm.InitOutput;
  try {
    out = await initWasm({ module_or_path: source });
  } catch (e) {
    throw new FormatError(
      `init: invalid \`wasm\`: expected nabla's WebAssembly module or its bytes, received something that failed to load (${String(e)})`,
      { code: "INVALID_WASM", op: "init", arg: "wasm" },
    );
  }
  const coreVersion = wasm.version();
  if (coreVersion !== VERSION) {
    throw new FormatError(
      `init: invalid \`wasm\`: expected the nabla ${VERSION} core, received the ${coreVersion} core`,
      { code: "INVALID_WASM", op: "init", arg: "wasm", expected: VERSION, received: coreVersion },
    );
  }
  output = out;
}

/** The .wasm shipped beside this file: read from disk where there is one, else fetched. */
async function defaultSource(): Promise<WasmSource> {
  const url = new URL("./nabla_bg.wasm", import.meta.url);
  const isNodeLike = typeof process !== "undefined" && typeof process.versions?.node === "string";
  if (isNodeLike && url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return readFile(url);
  }
  return url;
}

/** Throws unless `init()` has finished; `op` names the call for the message. */
export function ready(op: string): void {
  if (!output) {
    throw new StateError(`${op}: nabla is not initialized: call \`await nb.init()\` first`, {
      code: "NOT_INITIALIZED",
      op,
    });
  }
}

/** Current size of the wasm linear memory in bytes. */
export function wasmMemoryBytes(): number {
  return output ? output.memory.buffer.byteLength : 0;
}

export function info(): Info {
  ready("info");
  return {
    version: VERSION,
    simd: wasm.simd(),
    threads: 1,
    memoryBytes: output!.memory.buffer.byteLength,
  };
}
