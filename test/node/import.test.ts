// The package as a Node user gets it: `import * as nb from "nabla"` (and CommonJS
// `require("nabla")`) in a plain Node process (no test-runner transforms), resolved
// through package.json `exports`.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = `
import * as nb from "nabla";
let before;
try { nb.tensor([1]); } catch (e) { before = { name: e.name, code: e.code, isNabla: e instanceof nb.NablaError }; }
await nb.init();
const c = nb.matmul(nb.tensor([[1, 2], [3, 4]]), nb.tensor([[5], [6]]));
let shapeError;
try { nb.matmul(c, c); } catch (e) { shapeError = { name: e.name, code: e.code, message: e.message }; }
console.log(JSON.stringify({ info: nb.info(), product: c.toArray(), before, shapeError }));
`;

describe("Node ESM", () => {
  it("imports nabla, initializes, multiplies, and throws typed errors", () => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      encoding: "utf8",
    });
    const r = JSON.parse(out);
    expect(r.info).toMatchObject({ version: "0.1.0", simd: true, threads: 1 });
    expect(r.product).toEqual([[17], [39]]);
    expect(r.before).toEqual({ name: "StateError", code: "NOT_INITIALIZED", isNabla: true });
    expect(r.shapeError).toEqual({
      name: "ShapeError",
      code: "SHAPE_MISMATCH",
      message: "matmul: invalid `b`: expected 1 row to match the 1 column of `a` (shape [2, 1]), received shape [2, 1]",
    });
  });
});

// Node ≥ 20.19 loads ES modules with require() (no top-level await in nabla's graph),
// without a warning; both ways give the same module instance, so errors match instanceof.
const cjs = `
const nb = require("nabla");
import("nabla").then(async (esm) => {
  await nb.init();
  let error;
  try { nb.matmul(nb.zeros([2, 3]), nb.zeros([2, 3])); } catch (e) { error = { code: e.code, isNabla: e instanceof esm.NablaError }; }
  console.log(JSON.stringify({ same: nb.init === esm.init, version: nb.info().version, product: nb.matmul(nb.tensor([[1, 2]]), nb.tensor([[3], [4]])).toArray(), error }));
});
`;

describe("Node CommonJS", () => {
  it("require(\"nabla\") gives the same module as import, with no warning", () => {
    const r = spawnSync(process.execPath, ["-e", cjs], { cwd: fileURLToPath(new URL(".", import.meta.url)), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ same: true, version: "0.1.0", product: [[11]], error: { code: "SHAPE_MISMATCH", isNabla: true } });
  });
});
