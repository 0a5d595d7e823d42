// Browsers (and the default for anything else): the .wasm is fetched. The literal
// `new URL("./nabla_bg.wasm", import.meta.url)` is the pattern bundlers (Vite, webpack,
// Parcel) recognise to emit the file and rewrite its URL. No `node:` imports here.
import { setDefaultWasm } from "../init.js";

setDefaultWasm(() => new URL("./nabla_bg.wasm", import.meta.url)); // dist/, once bundled

export * from "../index.js";
