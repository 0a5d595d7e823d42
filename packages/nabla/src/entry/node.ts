// Node, Bun and Deno (npm:nabla): the .wasm is read from disk beside this file, no fetch.
import { readFile } from "node:fs/promises";
import { setDefaultWasm } from "../init.js";

setDefaultWasm(() => readFile(new URL("./nabla_bg.wasm", import.meta.url))); // dist/, once bundled

export * from "../index.js";
