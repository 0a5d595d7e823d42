// The package as users install it: `pnpm pack`, unpacked into node_modules/nabla of a
// fresh temporary project, with the runtime scripts of this folder copied beside it.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const here = fileURLToPath(new URL(".", import.meta.url));

/** A binary from test/node_modules/.bin (deno, bun, workerd, ...). */
export const bin = (name: string) => join(here, "..", "node_modules", ".bin", name);

/** Packs packages/nabla into a new temp project; returns the project's directory. */
export function packedProject(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Under scripts/build.sh's lock: a build in progress elsewhere in the checkout has
  // removed dist/ for a moment, and a pack then would ship without it.
  const root = join(here, "..", "..");
  mkdirSync(join(root, "target"), { recursive: true });
  execFileSync("flock", [join(root, "target", ".build.lock"), "pnpm", "pack", "--pack-destination", dir], { cwd: join(root, "packages", "nabla"), stdio: "ignore" });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  mkdirSync(join(dir, "node_modules", "nabla"), { recursive: true });
  execFileSync("tar", ["xzf", join(dir, tgz), "-C", join(dir, "node_modules", "nabla"), "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  for (const f of ["smoke.mjs", "train.mjs", "worker.mjs", "web-worker.mjs", "web-worker-main.mjs"]) cpSync(join(here, f), join(dir, f));
  return dir;
}

/** What smoke() in train.mjs returns, as each runtime prints or posts it. */
export interface SmokeResult {
  info: { version: string; simd: boolean };
  losses: number[];
  error: { name: string; code: string; isNablaError: boolean };
}

/** Runs a runtime on the project's smoke.mjs; the last line of stdout is the JSON result. */
export function runSmoke(project: string, cmd: string, args: string[], env: Record<string, string> = {}): SmokeResult {
  const out = execFileSync(cmd, args, { cwd: project, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  return JSON.parse(out.trim().split("\n").pop()!);
}
