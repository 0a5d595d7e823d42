#!/usr/bin/env bash
# Brings a fresh Debian machine to a working nabla build, from the registries only
# (npm, crates.io, Debian). Idempotent: what is installed at the right version is kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$NABLA_ROOT"

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) == 0 ]] || die "need Debian packages ${missing[*]}: run as root or install them with sudo apt-get install"
  log "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- Node and pnpm ----------------------------------------------------------------
mkdir -p "$NABLA_TOOLS"
command -v node >/dev/null || die "Node.js 20 or newer is required (it was not found on PATH)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js 20 or newer is required, found $(node --version)"
if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  log "installing pnpm $PNPM_VERSION into $NABLA_TOOLS"
  npm install --prefix "$NABLA_TOOLS" --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >/dev/null
fi

# --- Rust with the standard library's source -------------------------------------------
# The .wasm builds std itself (.cargo/wasm-release.toml), so what a toolchain needs is
# rust-src. rustup's component first; where rustup cannot download it, Debian's Rust,
# which ships the source (rust-web-src) and the wasm linker (lld-22).
install_debian_rust() {
  apt_install rustc-web cargo-web rust-web-src lld-22
  if command -v rustup >/dev/null && ! rustup toolchain list | grep -q "^$DEBIAN_TOOLCHAIN"; then
    log "linking Debian's Rust into rustup as $DEBIAN_TOOLCHAIN"
    rustup toolchain link "$DEBIAN_TOOLCHAIN" /usr
  fi
}

if ! command -v cargo >/dev/null; then
  install_debian_rust
elif [[ "${NABLA_RUST:-}" != debian ]] && { has_std_source || { command -v rustup >/dev/null &&
  timeout 300 rustup component add rust-src >/dev/null 2>&1 && has_std_source; }; }; then
  :
else
  [[ "${NABLA_RUST:-}" == debian ]] || log "rustup cannot provide rust-src here: using Debian's Rust"
  install_debian_rust
fi
use_wasm_toolchain || die "no Rust toolchain with the standard library's source (rust-src)"

# --- wasm-bindgen-cli and wasm-pack, built from crates.io ----------------------------
# Host tools: built by the default toolchain, whichever one builds the wasm.
cargo_install() { # crate version binary
  local have
  have="$(env -u RUSTUP_TOOLCHAIN "$3" --version 2>/dev/null | awk '{print $2}')" || true
  [[ "$have" == "$2" ]] && return 0
  log "building $1 $2 from crates.io (once; a few minutes)"
  # --locked reproduces the tool's own lockfile; if the registry lacks one of its
  # pinned versions (yanked), resolve afresh at the same tool version.
  if ! env -u RUSTUP_TOOLCHAIN cargo install -q "$1" --version "=$2" --locked 2>"$NABLA_TOOLS/cargo-install.log"; then
    log "$1's lockfile pins a crate version the registry does not offer; resolving its dependencies afresh"
    env -u RUSTUP_TOOLCHAIN cargo install -q "$1" --version "=$2"
  fi
}
[[ -n "$WASM_BINDGEN_VERSION" ]] || die "no wasm-bindgen entry in Cargo.lock"
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
cargo_install wasm-pack "$WASM_PACK_VERSION" wasm-pack

# --- A real browser for the browser tests (Debian's; playwright's own download is blocked) ----
# Only the tests need it, so the demo's set-up does not pay for it.
[[ "${NABLA_SETUP:-}" == test ]] && apt_install chromium

# --- JavaScript packages (rollup, TypeScript, vitest, binaryen's wasm-opt) -------------
log "pnpm install"
pnpm install --frozen-lockfile --prefer-offline --reporter=silent
log "set-up complete ($WASM_TOOLCHAIN Rust with rust-src for wasm32, wasm-bindgen $WASM_BINDGEN_VERSION, wasm-pack $WASM_PACK_VERSION, pnpm $PNPM_VERSION)"
