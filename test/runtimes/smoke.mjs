// Run by Node, Deno and Bun against the packed package: prints the smoke result as JSON.
import * as nb from "nabla";
import { smoke } from "./train.mjs";

// These runtimes must get the entry that reads the .wasm from disk; a fetch here would
// mean the browser entry was chosen.
globalThis.fetch = () => {
  throw new Error("fetch called: this runtime resolved nabla's browser entry, not the file-reading one");
};

console.log(JSON.stringify(await smoke(nb)));
