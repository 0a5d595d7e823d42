// The FinalizationRegistry safety net: tensors dropped without dispose() are freed in
// wasm once the garbage collector runs (a plain Node process with --expose-gc).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = `
import * as nb from "nabla";
await nb.init();
const before = nb.memory().tensors;
(() => { for (let i = 0; i < 1000; i++) nb.ones([16]); })();   // never disposed
const leaked = nb.memory().tensors - before;
for (let i = 0; i < 10 && nb.memory().tensors > before; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify({ leaked, after: nb.memory().tensors - before }));
`;

describe("FinalizationRegistry", () => {
  it("frees the wasm memory of tensors that were garbage-collected", () => {
    const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      encoding: "utf8",
    });
    const r = JSON.parse(out);
    expect(r.leaked).toBe(1000);
    expect(r.after).toBe(0);
  });
});
