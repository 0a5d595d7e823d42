// `pnpm bench`: every benchmark in turn, each in its own process, with the same flags.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
let status = 0;
for (const script of ["gemm.js", "losses.js", "training.js"]) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: "inherit" });
  if (r.status === 2) process.exit(2); // usage error: stop at once
  status ||= r.status ?? 1;
}
process.exit(status);
