// The package as a Node user gets it: `import * as nb from "nabla"` in a plain Node
// process (no test-runner transforms), resolved through package.json `exports`.
import { execFileSync } from "node:child_process";
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
