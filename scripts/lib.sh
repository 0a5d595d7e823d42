# Shared by the scripts: where the tools live, their pinned versions, and which Rust
# toolchain builds wasm32. Sourced, not run.

NABLA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# npm-installed tools (pnpm) live outside the clone so fresh clones reuse them.
NABLA_TOOLS="${NABLA_TOOLS:-$HOME/.cache/nabla/tools}"
export PATH="$NABLA_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"

PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$NABLA_ROOT/package.json")"
WASM_PACK_VERSION="0.15.1"
# wasm-bindgen-cli must be exactly the wasm-bindgen crate version in Cargo.lock.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$NABLA_ROOT/Cargo.lock")"
# Debian's Rust, linked into rustup under this name when rustup cannot add rust-src.
DEBIAN_TOOLCHAIN="nabla-debian"

log() { printf '\033[1;34m[nabla]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[nabla] error:\033[0m %s\n' "$*" >&2; exit 1; }

# True when the active rustc has the standard library's source (rust-src): the .wasm
# builds its own std from it (.cargo/wasm-release.toml), so no precompiled wasm32 std
# is needed.
has_std_source() {
  local sysroot
  sysroot="$(rustc --print sysroot 2>/dev/null)" || return 1
  [[ -f "$sysroot/lib/rustlib/src/rust/library/std/Cargo.toml" ]]
}

# Selects the toolchain that builds wasm32: the default one if it has rust-src,
# else Debian's (see setup.sh). NABLA_RUST=debian forces Debian's.
use_wasm_toolchain() {
  if [[ "${NABLA_RUST:-}" != debian ]] && has_std_source; then
    WASM_TOOLCHAIN=default
    return 0
  fi
  if command -v rustup >/dev/null && rustup toolchain list | grep -q "^$DEBIAN_TOOLCHAIN"; then
    export RUSTUP_TOOLCHAIN="$DEBIAN_TOOLCHAIN"
  fi
  has_std_source || return 1
  WASM_TOOLCHAIN=debian
}
