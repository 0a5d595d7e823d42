// The package as users get it: `pnpm pack`, then unpacked into node_modules/nabla of a
// fresh project, as an install would.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = fileURLToPath(new URL("../packages/nabla", import.meta.url));

/** A new temporary project (`package.json` of `type: module`) with the packed nabla installed. */
export function projectWithPackedNabla(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync("pnpm", ["pack", "--pack-destination", dir], { cwd: PACKAGE, stdio: "ignore" });
  const tgz = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  mkdirSync(join(dir, "node_modules", "nabla"), { recursive: true });
  execFileSync("tar", ["xzf", join(dir, tgz), "-C", join(dir, "node_modules", "nabla"), "--strip-components=1"]);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  return dir;
}
