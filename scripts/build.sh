#!/usr/bin/env bash
# Builds the wasm core (SIMD128, LTO, wasm-opt) and bundles the TypeScript package.
# Incremental: with nothing changed it takes seconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NABLA_ROOT"
# One build at a time in a checkout: concurrent builds would write the same outputs.
mkdir -p target && exec 9>target/.build.lock && flock 9
use_wasm_toolchain || die "no Rust toolchain with the standard library's source (rust-src): run scripts/setup.sh"

out="packages/nabla/wasm"
# `force` uses the wasm-bindgen on PATH and skips wasm-pack's check for a precompiled
# wasm32 std: .cargo/wasm-release.toml has cargo build std from source, for size.
log "building nabla-wasm ($WASM_TOOLCHAIN Rust, SIMD128, std from source)"
RUSTC_BOOTSTRAP=1 wasm-pack --log-level error build crates/nabla-wasm --release --target web \
  --weak-refs --no-pack --mode force --out-dir "../../$out" --out-name nabla \
  -- --config "$NABLA_ROOT/.cargo/wasm-release.toml"

# wasm-opt from npm's binaryen, cached by the hash of its input: it is the slow step
# and its output depends on nothing else.
raw="$out/nabla_bg.wasm"
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

log "bundling packages/nabla"
(cd packages/nabla && rm -rf dist && pnpm exec rollup -c --silent)
log "built: packages/nabla/dist ($(stat -c %s packages/nabla/dist/nabla_bg.wasm) bytes of wasm)"
