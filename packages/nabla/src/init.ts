// Loading the wasm core once per process, and the guard every other call goes through.

import initWasm, * as wasm from "../wasm/nabla.js";
import { FormatError, StateError } from "./errors.js";
import { VERSION } from "./version.js";

/**
 * A compiled `WebAssembly.Module`. Named through `globalThis` so the published types
 * compile without the DOM lib (a Node project with only @types/node has no `WebAssembly`).
 */
export type WasmModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : never;

/** What `init()` accepts: a compiled module, the bytes, or where to fetch them. */
export type WasmSource = WasmModule | ArrayBuffer | ArrayBufferView | URL | string | Response | Promise<Response>;

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
  /**
   * Whether `nb.reference` can run the scalar reference kernels: true for nabla's test
   * build of the .wasm, false for the shipped one (SIMD128 kernels only, smaller).
   */
  referenceKernels: boolean;
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

// Each runtime entry (src/entry/*) says where its .wasm comes from: Node reads the file,
// browsers fetch a URL bundlers can see, workerd imports it as a module.
let defaultWasm: (() => WasmSource | Promise<WasmSource>) | undefined;

/** @internal For runtime entries: where init() gets the .wasm when it is given none. */
export function setDefaultWasm(source: () => WasmSource | Promise<WasmSource>): void {
  defaultWasm = source;
}

// The glue keeps the first module it instantiates for good, so everything that can be
// wrong with a module is found before the glue sees it: that is what makes a failed
// init() retryable.
async function load(options: InitOptions): Promise<void> {
  const module = await compile(options.wasm ?? (await fromDefault()));
  const coreVersion = await probeVersion(module);
  if (coreVersion !== VERSION) {
    throw invalid(`the nabla ${VERSION} core, received the ${coreVersion} core`, { expected: VERSION, received: coreVersion });
  }
  try {
    output = await initWasm({ module_or_path: module });
  } catch (e) {
    throw invalid(`nabla's WebAssembly module, received one that failed to start (${String(e)})`);
  }
}

function invalid(what: string, fields: { expected?: string; received?: string } = {}): FormatError {
  return new FormatError(`init: invalid \`wasm\`: expected ${what}`, { code: "INVALID_WASM", op: "init", arg: "wasm", ...fields });
}

async function fromDefault(): Promise<WasmSource> {
  if (!defaultWasm) throw invalid("a module, bytes or URL, received none (import nabla through its package entry, which knows where its .wasm is)");
  try {
    return await defaultWasm();
  } catch (e) {
    throw invalid(`nabla's .wasm beside the package entry, received an error reading it (${String(e)})`);
  }
}

const WHAT = "a WebAssembly.Module, the .wasm bytes (ArrayBuffer or typed array), a URL or a Response";

/** Any accepted source → a compiled module; FormatError for anything else. */
async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (isBytes(source)) {
    try {
      return await WebAssembly.compile(source);
    } catch (e) {
      throw invalid(`${WHAT}, received bytes that are not a WebAssembly module (${String(e)})`);
    }
  }
  let response: unknown = source;
  if (typeof source === "string" || source instanceof URL) {
    try {
      response = await fetch(source);
    } catch (e) {
      throw invalid(`${WHAT}, received ${String(source)}, which could not be fetched (${String(e)})`);
    }
  } else if (isThenable(source)) {
    try {
      response = await source;
    } catch (e) {
      throw invalid(`${WHAT}, received a promise that rejected (${String(e)})`);
    }
  }
  if (typeof Response !== "function" || !(response instanceof Response)) throw invalid(`${WHAT}, received ${describe(response)}`);
  if (!response.ok) throw invalid(`${WHAT}, received HTTP ${response.status} ${response.statusText} for ${response.url || "a Response"}`);
  try {
    // Streaming compiles while downloading, but only for responses served as application/wasm.
    const streaming = typeof WebAssembly.compileStreaming === "function" && response.headers.get("content-type")?.split(";")[0] === "application/wasm";
    return await (streaming ? WebAssembly.compileStreaming(response) : WebAssembly.compile(await response.arrayBuffer()));
  } catch (e) {
    throw invalid(`${WHAT}, received ${response.url || "a Response"}, which is not a WebAssembly module (${String(e)})`);
  }
}

function isBytes(x: unknown): x is BufferSource {
  return ArrayBuffer.isView(x) || Object.prototype.toString.call(x) === "[object ArrayBuffer]";
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `${typeof x} ${String(x).slice(0, 40)}`;
}

/**
 * The version a module says it is, asked in a throwaway instance whose imports are
 * stubs: nabla's `version()` only allocates, so it never calls them. A module without
 * nabla's shape (imports from the glue only; memory, version and start exported) is
 * refused without running any of its code.
 */
async function probeVersion(module: WebAssembly.Module): Promise<string> {
  const imports = WebAssembly.Module.imports(module);
  const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
  const shaped =
    imports.every((i) => i.module === "./nabla_bg.js" && i.kind === "function") &&
    exports.get("memory") === "memory" &&
    exports.get("version") === "function" &&
    exports.get("__wbindgen_start") === "function";
  if (!shaped) throw invalid("nabla's WebAssembly module, received a WebAssembly module that is not nabla's");
  const stubs: Record<string, () => never> = {};
  for (const i of imports) {
    stubs[i.name] = () => {
      throw new Error(`${i.name} called while reading the version`);
    };
  }
  try {
    const probe = await WebAssembly.instantiate(module, { "./nabla_bg.js": stubs });
    const { version, memory } = probe.exports as { version: () => [number, number]; memory: WebAssembly.Memory };
    const [ptr, len] = version();
    return new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, len));
  } catch (e) {
    throw invalid(`nabla's WebAssembly module, received one whose version cannot be read (${String(e)})`);
  }
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
    referenceKernels: wasm.referenceKernels(),
  };
}
