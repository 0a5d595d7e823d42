// Cloudflare Workers (workerd): the .wasm is imported as a module, since Workers may
// not compile WebAssembly from bytes at run time.
// @ts-expect-error -- resolved by workerd (and bundlers for Workers) to a WebAssembly.Module
import wasmModule from "./nabla_bg.wasm"; // dist/nabla_bg.wasm, beside this entry once bundled
import { setDefaultWasm } from "../init.js";

setDefaultWasm(() => wasmModule as WebAssembly.Module);

export * from "../index.js";
