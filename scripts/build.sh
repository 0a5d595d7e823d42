#!/usr/bin/env bash
# Builds the wasm core (SIMD128, LTO, wasm-opt) and bundles the TypeScript package;
# with --reference also the test build of the .wasm (the scalar reference kernels).
# Incremental: with nothing changed it takes seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NABLA_ROOT"
# One build at a time in a checkout: concurrent builds would write the same outputs.
mkdir -p target && exec 9>target/.build.lock && flock 9
use_wasm_toolchain || die "no Rust toolchain with the standard library's source (rust-src): run scripts/setup.sh"

# Builds crates/nabla-wasm into $1 (glue nabla.js + nabla_bg.wasm), with the cargo
# features in $2 (may be empty), then runs wasm-opt on the .wasm.
build_wasm() {
  local out="$1" features="$2"
  # `force` uses the wasm-bindgen on PATH and skips wasm-pack's check for a precompiled
  # wasm32 std: .cargo/wasm-release.toml has cargo build std from source, for size.
  log "building nabla-wasm ($WASM_TOOLCHAIN Rust, SIMD128, std from source${features:+, features: $features})"
  RUSTC_BOOTSTRAP=1 wasm-pack --log-level error build crates/nabla-wasm --release --target web \
    --weak-refs --no-pack --mode force --out-dir "../../$out" --out-name nabla \
    -- --config "$NABLA_ROOT/.cargo/wasm-release.toml" ${features:+--features "$features"}

  # wasm-opt from npm's binaryen, cached by the hash of its input: it is the slow step
  # and its output depends on nothing else.
  local raw="$out/nabla_bg.wasm" hash cache
  hash="$(sha256sum "$raw" | cut -c1-16)"
  cache="target/wasm-opt/$hash.wasm"
  if [[ ! -f "$cache" ]]; then
    log "wasm-opt -O3"
    mkdir -p target/wasm-opt
    pnpm exec wasm-opt "$raw" -O3 -o "$cache.tmp" \
      --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-multivalue --enable-reference-types
    mv "$cache.tmp" "$cache"
  fi
  cp "$cache" "$raw"
}

build_wasm packages/nabla/wasm ""
# The test build (`--reference`, as ./dev.sh test asks): the shipped .wasm plus the
# scalar reference kernels behind nb.reference, which the kernel tests load with
# init({ wasm }). Its glue must be the shipped glue, since the tests pair the two.
if [[ "${1:-}" == "--reference" ]]; then
  build_wasm packages/nabla/wasm-reference reference
  cmp -s packages/nabla/wasm/nabla.js packages/nabla/wasm-reference/nabla.js ||
    die "the reference build's wasm-bindgen glue differs from the shipped build's: the feature must not change the bindings"
fi

log "bundling packages/nabla"
(cd packages/nabla && rm -rf dist && pnpm exec rollup -c --silent)
log "built: packages/nabla/dist ($(stat -c %s packages/nabla/dist/nabla_bg.wasm) bytes of wasm)"
