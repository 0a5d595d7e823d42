#!/usr/bin/env bash
# Runs every test: the Rust core natively, then vitest in each package (against the
# built package, so run build.sh first), then prints one closing tally.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NABLA_ROOT"

results="test/.results"
rm -rf "$results" && mkdir -p "$results"

log "cargo test: nabla-kernels, nabla-core (native)"
cargo test -q -p nabla-kernels -p nabla-core 2>&1 | tee "$results/cargo.log"

log "tsc: packages/nabla types (sources and tests), the cross-boundary tests"
(cd packages/nabla && pnpm exec tsc --noEmit -p tsconfig.json && pnpm exec tsc -p tsconfig.test.json)
(cd test && pnpm exec tsc --noEmit -p tsconfig.json)

for pkg in packages/nabla test packages/demo; do
  log "vitest: $pkg"
  (cd "$pkg" && pnpm exec vitest run --reporter=default --reporter=json \
    --outputFile.json="$NABLA_ROOT/$results/$(basename "$pkg").json")
done

node --input-type=module - "$results" <<'JS'
import { readFileSync, readdirSync } from "node:fs";
const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
for (const line of readFileSync(`${dir}/cargo.log`, "utf8").split("\n")) {
  const m = /test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/.exec(line);
  if (m) { passed += +m[1]; failed += +m[2]; skipped += +m[3]; }
}
for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const r = JSON.parse(readFileSync(`${dir}/${f}`, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`\ntotal: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exit(1);
JS
