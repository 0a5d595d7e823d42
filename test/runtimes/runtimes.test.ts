// One package, several runtimes: the packed tarball (as users get it) runs the same
// smoke-and-train script in Node, Deno and Bun; the losses must fall and be
// bit-identical across runtimes, and a bad call must raise a NablaError with its code.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));
const bin = (name: string) => join(here, "..", "node_modules", ".bin", name);
let project = "";

beforeAll(() => {
  // pnpm pack, then unpack into node_modules/nabla of a fresh project: what an install does.
  const dir = mkdtempSync(join(tmpdir(), "nabla-runtimes-"));
  execFileSync("pnpm", ["pack", "--pack-destination", dir], { cwd: join(here, "..", "..", "packages", "nabla"), stdio: "ignore" });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  mkdirSync(join(dir, "node_modules", "nabla"), { recursive: true });
  execFileSync("tar", ["xzf", join(dir, tgz), "-C", join(dir, "node_modules", "nabla"), "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  cpSync(join(here, "smoke.mjs"), join(dir, "smoke.mjs"));
  project = dir;
}, 60_000);

const run = (cmd: string, args: string[]) => JSON.parse(execFileSync(cmd, args, { cwd: project, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }).trim().split("\n").pop()!);

describe("runtimes", () => {
  const results: Record<string, { losses: number[]; info: { simd: boolean }; error: { name: string; code: string; isNablaError: boolean } }> = {};

  it.each([
    ["node", () => run(process.execPath, ["smoke.mjs"])],
    ["deno", () => run(bin("deno"), ["run", "--allow-read", "--allow-env", "smoke.mjs"])],
    ["bun", () => run(bin("bun"), ["smoke.mjs"])],
  ])("%s trains the seeded model and raises typed errors", (name, go) => {
    const r = go();
    results[name] = r;
    expect(r.info.simd).toBe(true);
    expect(r.losses).toHaveLength(20);
    expect(r.losses[19]).toBeLessThan(r.losses[0]);
    expect(r.error).toEqual({ name: "ShapeError", code: "SHAPE_MISMATCH", isNablaError: true });
  }, 60_000);

  it("the losses are bit-identical in every runtime", () => {
    expect(Object.keys(results).sort()).toEqual(["bun", "deno", "node"]);
    expect(results.deno!.losses).toEqual(results.node!.losses);
    expect(results.bun!.losses).toEqual(results.node!.losses);
  });
});
